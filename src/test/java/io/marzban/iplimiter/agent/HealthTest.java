package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** /observe/health tells whether events can flow, and why not. */
class HealthTest {

    private static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private RedisServer redis;
    private String health;

    @BeforeEach
    void setUp() throws Exception {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        redis.close();
    }

    private Map<String, String> env(String... pairs) {
        String port = Ports.freeText();
        health = "http://127.0.0.1:" + port + "/observe/health";
        return AgentEnv.with(AgentEnv.of(redis.url(), dir.resolve("access.log"), "MANAGEMENT_PORT", port,
                "FLUSH_INTERVAL", "0.1", "RETRY_DELAY", "0.1", "MAX_RETRY_DELAY", "0.3", "REDIS_TIMEOUT", "1"), pairs);
    }

    @Test
    void downWithTheReasonWhileRedisIsUnreachableAndUpWhenItIsBack() throws Exception {
        Files.createFile(dir.resolve("access.log"));
        try (RunningAgent agent = RunningAgent.start(env())) {
            awaitHealth(200, body -> body.contains("UP"));
            redis.stop();
            // Camel's health JSON escapes '/', so match the parts of the reason without one
            awaitHealth(503, body -> body.contains("central Redis") && body.contains("Failed to connect to 127.0.0.1:"
                    + redis.port()));
            redis.start();
            awaitHealth(200, body -> body.contains("UP"));
        }
    }

    @Test
    void downWithTheReasonWhileTheLogCannotBeRead() throws Exception {
        try (AutoCloseable agent = RunningAgent.startInBackground(env())) {
            awaitHealth(503, body -> body.contains("Waiting for") && body.contains("access.log to appear"));
            Files.createFile(dir.resolve("access.log"));
            awaitHealth(200, body -> body.contains("UP"));
        }
    }

    @Test
    void downWhenBatchesCannotBeWrittenForLongerThanTheThreshold() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        try (RunningAgent agent = RunningAgent.start(env("SHIPPING_STUCK_AFTER", "1"))) {
            try (Jedis jedis = redis.client()) {
                jedis.set("node_logs_queue", "not a list"); // Redis answers, yet LPUSH fails every time
            }
            Files.writeString(log, AccessLines.numbered(0) + "\n", StandardOpenOption.APPEND);
            awaitHealth(503, body -> body.contains("shipping has been stuck for"));
            try (Jedis jedis = redis.client()) {
                jedis.del("node_logs_queue");
            }
            awaitHealth(200, body -> body.contains("UP"));
            redis.awaitEvents(1, LIMIT);
        }
    }

    @Test
    void saysWhenXrayMasksClientAddressesAndTheMetricDoesToo() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        Map<String, String> env = env();
        try (RunningAgent agent = RunningAgent.start(env)) {
            String metrics = health.replace("/health", "/metrics");
            assertTrue(Http.get(metrics).body().contains("marzban_xray_masks_addresses 0.0"));
            Files.writeString(log, "2025/03/01 18:04:11 from [Masked IPv4]:40112 accepted tcp:a:443 email: 1.a\n",
                    StandardOpenOption.APPEND);
            Wait.until("the gauge", LIMIT, () -> Http.get(metrics).body().contains("marzban_xray_masks_addresses 1.0"));
            HttpResponse<String> details = Http.get(health + "?exposureLevel=full&data=true");
            assertEquals(200, details.statusCode(), "shipping itself works");
            assertTrue(details.body().contains("IP limiting cannot work until log.maskAddress is removed"),
                    details.body());
        }
    }

    private void awaitHealth(int status, Predicate<String> body) throws InterruptedException {
        String[] last = {""};
        try {
            Wait.until("health " + status, LIMIT, () -> {
                HttpResponse<String> response = get();
                last[0] = response == null ? "(no answer)" : response.statusCode() + " " + response.body();
                return response != null && response.statusCode() == status && body.test(response.body());
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last answer: " + last[0]);
        }
    }

    private HttpResponse<String> get() {
        return Http.get(health);
    }
}
