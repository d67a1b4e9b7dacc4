package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Limits changed without a restart: USER_LIMITS_FILE edited, and the HTTP API shared through the central Redis. */
class LiveLimitsTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final String OPS = "ops:ops-secret";

    @TempDir
    Path dir;

    @Test
    void anEditedLimitsFileAppliesAtTheNextCheckAndABadEditKeepsTheLimitsBefore() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            Path limits = Files.writeString(dir.resolve("limits"), "maria 3\n");
            Map<String, String> env = env(redis, marzban, "USER_LIMITS_FILE", limits.toString());
            try (RunningLimiter limiter = RunningLimiter.start(env)) {
                Events.pushThreeDevices(redis);
                limiter.awaitChecks(2);
                assertEquals(0, limiter.meter("marzban_limiter_users_over_limit"), "3 devices, limit 3");

                Files.writeString(limits, "# tightened\nmaria 2\n");
                Wait.until("maria over her new limit", LIMIT,
                        () -> limiter.meter("marzban_limiter_users_over_limit") == 1);
                assertTrue(limiter.logged("Limit of user maria: 3 -> 2, changed by USER_LIMITS_FILE"));

                Files.writeString(limits, "maria two\n");
                Wait.until("the bad edit reported", LIMIT, () -> limiter.logged("cannot be used (line 1"));
                limiter.awaitChecks(2);
                assertEquals(1, limiter.meter("marzban_limiter_users_over_limit"), "the limit read before stays");

                Files.writeString(limits, "maria exempt\n");
                Wait.until("maria exempt", LIMIT, () -> limiter.meter("marzban_limiter_users_over_limit") == 0);
            }
        }
    }

    @Test
    void aLimitSetThroughTheApiIsSeenByASecondInstanceAndOutlivesARestart() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            Path users = Files.writeString(dir.resolve("management.properties"), "user.ops = ops-secret\n");
            String firstPort = Ports.freeText();
            String secondPort = Ports.freeText();
            String first = "http://127.0.0.1:" + firstPort + UserInspection.PATH + "Maria";
            String second = "http://127.0.0.1:" + secondPort + UserInspection.PATH + "maria";
            Map<String, String> firstEnv = env(redis, marzban, "MANAGEMENT_PORT", firstPort,
                    "MANAGEMENT_AUTH_FILE", users.toString());
            Map<String, String> secondEnv = env(redis, marzban, "MANAGEMENT_PORT", secondPort,
                    "MANAGEMENT_AUTH_FILE", users.toString());
            try (RunningLimiter one = RunningLimiter.start(firstEnv);
                 RunningLimiter two = RunningLimiter.start(secondEnv)) {
                Events.pushThreeDevices(redis);
                Wait.until("maria over the default limit of 2", LIMIT,
                        () -> one.meter("marzban_limiter_users_over_limit") == 1);

                assertEquals(415, Http.send("PUT", first + "/limit", OPS, "text/plain", "3").statusCode());
                assertEquals(400, Http.send("PUT", first + "/limit", OPS, "application/json", "{\"limit\":0}")
                        .statusCode());
                assertEquals(401, Http.send("PUT", first + "/limit", null, "application/json", "{\"limit\":3}")
                        .statusCode());
                String set = Http.send("PUT", first + "/limit", OPS, "application/json", "{\"limit\": 3}").body();
                assertTrue(set.contains("\"limit\":3") && set.contains("\"source\":\"set\"")
                        && set.contains("\"set_by\":\"ops (management API from 127.0.0.1)\""), set);
                assertTrue(one.logged("Limit of user maria: 2 -> 3, set by ops"));

                one.awaitChecks(2);
                two.awaitChecks(2);
                assertEquals(0, one.meter("marzban_limiter_users_over_limit"));
                assertEquals(0, two.meter("marzban_limiter_users_over_limit"));
                String seen = Http.get(second, OPS).body();
                assertTrue(seen.contains("\"limit\":3") && seen.contains("\"limit_source\":\"set\""), seen);
            }
            try (RunningLimiter restarted = RunningLimiter.start(firstEnv)) {
                restarted.awaitChecks(2);
                assertEquals(0, restarted.meter("marzban_limiter_users_over_limit"), "the limit outlived the restart");
                String back = Http.send("DELETE", first + "/limit", OPS, null, null).body();
                assertTrue(back.contains("\"limit\":2") && back.contains("\"source\":\"default\""), back);
                Wait.until("maria over the default again", LIMIT,
                        () -> restarted.meter("marzban_limiter_users_over_limit") == 1);
            }
        }
    }

    @Test
    void withoutAnAuthenticationFileLimitsCannotBeChangedOverHttp() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            String port = Ports.freeText();
            try (RunningLimiter limiter = RunningLimiter.start(env(redis, marzban, "MANAGEMENT_PORT", port))) {
                String maria = "http://127.0.0.1:" + port + UserInspection.PATH + "maria";
                var refused = Http.send("PUT", maria + "/limit", null, "application/json", "{\"limit\":5}");
                assertEquals(403, refused.statusCode());
                assertTrue(refused.body().contains("MANAGEMENT_AUTH_FILE"), refused.body());
                assertEquals(403, Http.send("DELETE", maria + "/limit", null, null, null).statusCode());
                assertTrue(Http.get(maria).body().contains("\"limit\":2"));
                assertEquals(405, Http.send("PUT", maria, null, "application/json", "{}").statusCode());
            }
        }
    }

    private static Map<String, String> env(RedisServer redis, MarzbanStandIn marzban, String... more) {
        Map<String, String> env = LimiterEnv.of(redis, marzban, more);
        env.putIfAbsent("VIOLATION_GRACE", "60");
        env.putIfAbsent("CHECK_INTERVAL", "0.2");
        return env;
    }
}
