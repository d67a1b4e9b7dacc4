package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The limiter's management server: health with reasons, Prometheus meters, a user's devices. */
class LimiterObservabilityTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void healthIsDownWithTheReasonWhileMarzbanOrRedisIsAwayMetersAreScrapedAndUsersShown() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); MarzbanStandIn marzban = MarzbanStandIn.start()) {
            String port = Ports.freeText();
            marzban.stop();
            Map<String, String> env = Map.of("CENTRAL_REDIS_URL", redis.url(), "MARZBAN_URL", marzban.url(),
                    "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                    "MANAGEMENT_PORT", port, "CHECK_INTERVAL", "0.2", "REDIS_TIMEOUT", "1");
            String health = "http://127.0.0.1:" + port + "/observe/health";
            try (RunningLimiter limiter = RunningLimiter.start(env)) {
                Wait.until("DOWN naming Marzban", LIMIT, () -> body(health).contains("DOWN")
                        && body(health).contains("unreachable: GET"));

                marzban.restart();
                Wait.until("UP", LIMIT, () -> body(health).contains("\"UP\""));

                redis.stop();
                Wait.until("DOWN naming Redis", LIMIT, () -> body(health).contains("central Redis"));
                redis.start();
                Wait.until("UP again", LIMIT, () -> body(health).contains("\"UP\""));

                Events.push(redis, Events.event("node-a", "maria", "198.51.100.1"));
                Wait.until("the event counted", LIMIT, () -> limiter.meter("marzban_limiter_events_consumed") == 1);
                String maria = body("http://127.0.0.1:" + port + "/observe/limiter/users/maria");
                assertTrue(maria.contains("\"limit\":2") && maria.contains("\"addresses\":[\"198.51.100.1\"]")
                        && maria.contains("\"nodes\":[\"node-a\"]") && maria.contains("\"restore_at\":null"), maria);
                assertTrue(maria.matches(".*\"last_seen\":\\d{10}\\.\\d{3}[,}].*"), "epoch seconds, plain: " + maria);
                String nobody = body("http://127.0.0.1:" + port + "/observe/limiter/users/nobody");
                assertTrue(nobody.contains("\"devices\":[]"), nobody);
                String metrics = body("http://127.0.0.1:" + port + "/observe/metrics");
                for (String meter : new String[] {"marzban_limiter_events_consumed_total 1.0",
                        "marzban_limiter_users_tracked", "marzban_limiter_users_over_limit",
                        "marzban_limiter_disables_total", "marzban_limiter_restores_total",
                        "marzban_limiter_api_errors_total{kind=\"unreachable\"}"}) {
                    assertTrue(metrics.contains(meter), meter + " missing from:\n" + metrics);
                }
            }
        }
    }

    @Test
    void withAnAuthenticationFileAUsersDevicesNeedCredentials() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); MarzbanStandIn marzban = MarzbanStandIn.start()) {
            String port = Ports.freeText();
            Path users = Files.writeString(dir.resolve("management.properties"), "user.ops = ops-secret\n");
            Map<String, String> env = Map.of("CENTRAL_REDIS_URL", redis.url(), "MARZBAN_URL", marzban.url(),
                    "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                    "MANAGEMENT_PORT", port, "MANAGEMENT_AUTH_FILE", users.toString());
            String maria = "http://127.0.0.1:" + port + UserInspection.PATH + "maria";
            try (RunningLimiter limiter = RunningLimiter.start(env)) {
                Wait.until("the endpoint answers", LIMIT, () -> Http.get(maria, "ops:ops-secret") != null
                        && Http.get(maria, "ops:ops-secret").statusCode() == 200);
                assertEquals(401, Http.get(maria).statusCode());
                assertEquals(401, Http.get(maria, "ops:wrong").statusCode());
            }
        }
    }

    private static String body(String url) {
        HttpResponse<String> response = Http.get(url);
        return response == null ? "" : response.body();
    }
}
