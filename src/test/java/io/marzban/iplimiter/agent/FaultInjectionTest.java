package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.ExactlyOnce;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import io.marzban.iplimiter.support.XrayWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * Rotation, outages and hostile files, each while lines keep coming, against a real redis-server and the agent
 * started by bin/marzban-ip-limiter-node. Every test ends by comparing the events in Redis with the lines written:
 * one lost or doubled event fails it.
 */
class FaultInjectionTest {

    private static final Duration LIMIT = Duration.ofSeconds(90);
    private static final String QUEUE = "node_logs_queue";

    @TempDir
    Path dir;

    private RedisServer redis;
    private Path log;
    private int agentsStarted;

    @BeforeEach
    void setUp() throws Exception {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
        log = Files.createFile(dir.resolve("access.log"));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        redis.close();
    }

    /** A new file for the output of the next agent started. */
    private Path output() {
        return dir.resolve("agent-" + (++agentsStarted) + ".out");
    }

    private Map<String, String> env(String... pairs) {
        return AgentEnv.with(AgentEnv.of(redis.url(), log, "START_POSITION", "beginning", "FLUSH_INTERVAL", "0.1",
                "ROTATION_QUIET_PERIOD", "1", "RETRY_DELAY", "0.1", "MAX_RETRY_DELAY", "0.5", "REDIS_TIMEOUT", "1"), pairs);
    }

    // ---- rotation while lines keep coming ----

    @Test
    void copytruncateWhileLinesKeepComing() throws Exception {
        try (XrayWriter xray = new XrayWriter(log, true, 1); AgentProcess agent = AgentProcess.following(env(), output())) {
            for (int rotation = 1; rotation <= 3; rotation++) {
                Thread.sleep(400);
                int n = rotation;
                xray.between(() -> copyTruncate(n)); // logrotate copies, then truncates in place
            }
            Thread.sleep(400);
            xray.close();
            assertExactlyOnce(xray.written());
        }
    }

    @Test
    void truncationByAWriterThatKeepsItsOffsetLeavesANulGap() throws Exception {
        try (XrayWriter xray = new XrayWriter(log, false, 1); AgentProcess agent = AgentProcess.following(env(), output())) {
            Thread.sleep(400);
            xray.between(() -> copyTruncate(1)); // the writer goes on at its old offset: NULs up to there
            Thread.sleep(400);
            xray.close();
            assertExactlyOnce(xray.written());
        }
    }

    @Test
    void renameAndCreateWhileLinesKeepComingIntoBothFiles() throws Exception {
        try (XrayWriter xray = new XrayWriter(log, true, 1); AgentProcess agent = AgentProcess.following(env(), output())) {
            for (int rotation = 1; rotation <= 2; rotation++) {
                Thread.sleep(400);
                Path rotated = dir.resolve("access.log." + rotation);
                xray.between(() -> Files.move(log, rotated));
                Thread.sleep(300); // Xray keeps writing into the renamed file for a while
                xray.reopen();
            }
            Thread.sleep(400);
            xray.close();
            assertExactlyOnce(xray.written());
        }
    }

    @Test
    void deletedAndRecreatedAfterAWhileWithoutTheFile() throws Exception {
        try (XrayWriter xray = new XrayWriter(log, true, 1); AgentProcess agent = AgentProcess.following(env(), output())) {
            Thread.sleep(400);
            xray.delete();
            Thread.sleep(1500); // no file at the path for a while
            xray.reopen();
            Thread.sleep(400);
            xray.close();
            assertExactlyOnce(xray.written());
        }
    }

    @Test
    void aFileMissingAtStartIsReadWholeWhenItAppears() throws Exception {
        Files.delete(log);
        String port = Ports.freeText();
        try (AgentProcess agent = AgentProcess.start(env("START_POSITION", "end", "MANAGEMENT_PORT", port), output())) {
            // the file appears only once the agent is waiting for it, as on a node where Xray starts later
            Wait.until("the agent waits for the file", LIMIT, () -> healthMentions(port, "to appear"));
            try (XrayWriter xray = new XrayWriter(log, true, 1)) {
                Thread.sleep(500);
                xray.close();
                assertExactlyOnce(xray.written());
            }
        }
    }

    private static boolean healthMentions(String port, String text) {
        HttpResponse<String> health = Http.get("http://127.0.0.1:" + port + "/observe/health");
        return health != null && health.body().contains(text);
    }

    // ---- rotation while the agent is down ----

    @Test
    void renamedWhileTheAgentIsDown() throws Exception {
        try (XrayWriter xray = new XrayWriter(log, true, 1)) {
            try (AgentProcess first = AgentProcess.following(env(), output())) {
                Thread.sleep(400);
            }
            xray.between(() -> Files.move(log, dir.resolve("access.log.1")));
            Thread.sleep(200);
            xray.reopen();
            Thread.sleep(200);
            try (AgentProcess second = AgentProcess.following(env(), output())) {
                Thread.sleep(400);
                xray.close();
                assertExactlyOnce(xray.written());
            }
        }
    }

    @Test
    void copytruncatedWhileTheAgentIsDown() throws Exception {
        try (XrayWriter xray = new XrayWriter(log, true, 1)) {
            try (AgentProcess first = AgentProcess.following(env(), output())) {
                Thread.sleep(400);
            }
            Thread.sleep(200);
            xray.between(() -> copyTruncate(1));
            Thread.sleep(200);
            try (AgentProcess second = AgentProcess.following(env(), output())) {
                Thread.sleep(400);
                xray.close();
                assertExactlyOnce(xray.written());
            }
        }
    }

    // ---- Redis ----

    @Test
    void aLongRedisOutageWhileTheFileGrowsByHundredsOfThousandsOfLines() throws Exception {
        List<String> lines = AccessLines.numbered(0, 200_000);
        try (AgentProcess agent = AgentProcess.following(env(), output())) {
            LogFile.append(log, lines.subList(0, 1000));
            Wait.until("the first events", LIMIT, () -> queueLength() == 1000);
            redis.stop();
            for (int i = 1000; i < lines.size(); i += 10_000) {
                LogFile.append(log, lines.subList(i, Math.min(i + 10_000, lines.size()))); // the file is the buffer meanwhile
            }
            Thread.sleep(1000);
            redis.start();
            assertExactlyOnce(lines);
        }
    }

    @Test
    void aCentralRedisThatRestartsEmptyIsNotRefilledFromTheWholeFile() throws Exception {
        List<String> lines = AccessLines.numbered(0, 150);
        try (AgentProcess agent = AgentProcess.following(env(), output())) {
            LogFile.append(log, lines.subList(0, 100));
            Wait.until("100 events", LIMIT, () -> queueLength() == 100);
            redis.stop();
            redis.startEmpty(); // the central Redis lost its data
            LogFile.append(log, lines.subList(100, 150));
            assertExactlyOnce(lines.subList(100, 150));
        }
    }

    @Test
    void aCorruptStoredPositionIsReportedAndStartPositionDecides() throws Exception {
        List<String> lines = AccessLines.numbered(0, 20);
        LogFile.append(log, lines);
        try (Jedis jedis = redis.client()) {
            jedis.set("{node_logs_queue}:position:node-1:" + log, "{not json");
        }
        try (AgentProcess agent = AgentProcess.following(env(), output())) {
            assertExactlyOnce(lines);
        }
    }

    // ---- hostile files ----

    @Test
    void garbageAmongTheLinesIsSkippedAndEveryValidLineArrivesOnce() throws Exception {
        Random random = new Random(7);
        List<String> valid = new ArrayList<>();
        try (AgentProcess agent = AgentProcess.following(env("MAX_LINE_BYTES", "4096"), output())) {
            for (int i = 0; i < 300; i++) {
                byte[] garbage = new byte[random.nextInt(20_000)];
                random.nextBytes(garbage); // binary: NULs, invalid UTF-8, stray \r and \n
                String line = AccessLines.numbered(i);
                valid.add(line);
                LogFile.append(log, garbage);
                LogFile.append(log, ("\n" + (i % 3 == 0 ? "\r\n\n" : "") + line + (i % 2 == 0 ? "\r\n" : "\n"))
                        .getBytes(StandardCharsets.UTF_8));
            }
            assertExactlyOnce(valid);
        }
    }

    @Test
    void aGigabyteOfNulsAndGarbageDoesNotStopTheAgent() throws Exception {
        try (AgentProcess agent = AgentProcess.following(env(), output())) {
            try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
                file.setLength(1L << 30); // a sparse GiB of NULs, as a truncation hole can leave
            }
            byte[] garbage = new byte[8 << 20];
            new Random(3).nextBytes(garbage);
            LogFile.append(log, garbage);
            LogFile.append(log, new byte[] {'\n'}); // ends the last garbage line
            List<String> lines = AccessLines.numbered(0, 10);
            LogFile.append(log, lines);
            assertExactlyOnce(lines);
        }
    }

    // ---- helpers ----

    /** The events in Redis are exactly {@code expected}, in order; waits for them first. */
    private void assertExactlyOnce(List<String> expected) throws Exception {
        ExactlyOnce.assertShipped(redis, expected, LIMIT);
    }

    private long queueLength() {
        try (Jedis jedis = redis.client()) {
            return jedis.llen(QUEUE);
        } catch (RuntimeException e) {
            return -1; // Redis is down right now
        }
    }

    private void copyTruncate(int n) throws IOException {
        Files.copy(log, dir.resolve("access.log." + n));
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.setLength(0);
        }
    }
}
