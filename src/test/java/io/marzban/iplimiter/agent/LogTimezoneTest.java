package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Xray writing Tehran time (+03:30) while the agent runs: with LOG_TIMEZONE unset the agent learns it from the lines
 * it reads live (never from the old lines it catches up on), and an explicit LOG_TIMEZONE=UTC is said to be wrong.
 */
class LogTimezoneTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ZoneOffset TEHRAN = ZoneOffset.of("+03:30");
    private static final DateTimeFormatter XRAY = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS");

    @TempDir
    Path dir;
    private RedisServer redis;
    private Path log;
    private String health;
    /** When each line was written, by its client address. */
    private final Map<String, Instant> writtenAt = new ConcurrentHashMap<>();
    private volatile boolean writing;
    private Thread xray;

    @BeforeEach
    void setUp() throws Exception {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
        log = dir.resolve("access.log");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        writing = false;
        if (xray != null) {
            xray.join();
        }
        redis.close();
    }

    @Test
    void unsetItIsLearnedFromLinesReadLiveAndEveryLaterEventIsDatedTruly() throws Exception {
        // an old file caught up on from its beginning: these lines, read now, would teach +01:30
        Instant twoHoursAgo = Instant.now().minus(Duration.ofHours(2));
        List<String> old = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            old.add(line(twoHoursAgo.plusMillis(i * 10L), "10.0.0." + (i % 250 + 1)));
        }
        Files.write(log, old);
        try (RunningAgent agent = RunningAgent.start(env("START_POSITION", "beginning"))) {
            redis.awaitEvents(200, LIMIT);
            assertTrue(healthDetails().contains("UTC until a line read live shows the offset"), healthDetails());
            Wait.until("healthy", LIMIT, () -> Http.get(health).statusCode() == 200);
            Instant healthy = Instant.now();
            startXray();
            Instant from = healthy.plusSeconds(15);
            Wait.until("lines written 15 s after the agent became healthy, shipped", LIMIT,
                    () -> shippedLinesWrittenSince(from) >= 20);

            for (JsonNode event : events()) {
                Instant written = writtenAt.get(event.get("client_ip").asText());
                if (written != null && !written.isBefore(from)) {
                    double error = event.get("timestamp").asDouble() - (written.getEpochSecond()
                            + written.getNano() / 1e9);
                    assertTrue(Math.abs(error) <= 2, event + " is " + error + " s off, written at " + written);
                }
            }
            assertTrue(agent.logged("Xray's access log is stamped at UTC+03:30"));
            assertFalse(agent.logged("UTC+01:30"), "the lines caught up on taught nothing");
            assertTrue(healthDetails().contains("auto: UTC+03:30, learned from lines read live"), healthDetails());
        }
    }

    @Test
    void setToUtcWhileXrayWritesTehranTimeItIsAWarningNamingTheOffsetSeen() throws Exception {
        Files.createFile(log);
        try (RunningAgent agent = RunningAgent.start(env("LOG_TIMEZONE", "UTC"))) {
            startXray();
            Wait.until("a WARN naming LOG_TIMEZONE and +03:30", LIMIT,
                    () -> agent.logged("LOG_TIMEZONE=UTC disagrees with Xray's access log: lines read live are "
                            + "stamped at +03:30"));
            assertEquals(1, agent.timesLogged("LOG_TIMEZONE=UTC disagrees"), "once an hour at most");
            HttpResponse<String> response = Http.get(health + "?exposureLevel=full&data=true");
            assertEquals(200, response.statusCode(), "shipping goes on");
            assertTrue(response.body().contains("log_timezone_problem"), response.body());
        }
    }

    private Map<String, String> env(String... pairs) {
        String port = Ports.freeText();
        health = "http://127.0.0.1:" + port + "/observe/health";
        return AgentEnv.with(AgentEnv.of(redis.url(), log, "MANAGEMENT_PORT", port, "FLUSH_INTERVAL", "0.1"), pairs);
    }

    /** Xray, its clock right and its zone +03:30: a line every 100 ms, each from its own address. */
    private void startXray() {
        writing = true;
        xray = new Thread(() -> {
            for (int i = 0; writing; i++) {
                String address = "198.51." + (i / 250 % 250) + "." + (i % 250 + 1);
                Instant now = Instant.now();
                writtenAt.put(address, now);
                try {
                    Files.writeString(log, line(now, address) + "\n", StandardOpenOption.APPEND);
                    Thread.sleep(100);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "xray-in-tehran");
        xray.start();
    }

    private long shippedLinesWrittenSince(Instant from) {
        return events().stream().map(event -> writtenAt.get(event.get("client_ip").asText()))
                .filter(written -> written != null && !written.isBefore(from)).count();
    }

    private List<JsonNode> events() {
        return redis.queue(RedisServer.QUEUE).stream().map(event -> {
            try {
                return JSON.readTree(event);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }

    private String healthDetails() {
        return Http.get(health + "?exposureLevel=full&data=true").body();
    }

    private static String line(Instant at, String address) {
        return XRAY.format(at.atOffset(TEHRAN)) + " from " + address + ":40112 accepted tcp:www.example.com:443 "
                + "[VLESS TCP REALITY >> DIRECT] email: 17.maria";
    }
}
