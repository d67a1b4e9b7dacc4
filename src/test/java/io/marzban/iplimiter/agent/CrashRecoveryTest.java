package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import io.marzban.iplimiter.support.XrayWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 while lines keep coming: after restarts every event is in Redis exactly once, in file order. */
class CrashRecoveryTest {

    @TempDir
    Path dir;

    @Test
    void killedWithSigkillWhileLinesKeepComingEveryEventArrivesExactlyOnce() throws Exception {
        List<String> lines = AccessLines.numbered(0, 4000);
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = AgentEnv.of(redis.url(), log, "START_POSITION", "beginning",
                    "BATCH_SIZE", "50", "FLUSH_INTERVAL", "0.1");

            Thread writer = new Thread(() -> appendSlowly(log, lines), "xray");
            writer.start();
            Random random = new Random(42);
            for (int crash = 0; crash < 4; crash++) {
                AgentProcess agent = AgentProcess.start(env, dir.resolve("agent-" + crash + ".out"));
                agent.awaitOutput("at offset"); // "No stored position ... starting at offset" or "Resuming ... at offset"
                Thread.sleep(300 + random.nextInt(900));
                agent.kill();
            }
            AgentProcess last = AgentProcess.start(env, dir.resolve("agent-last.out"));
            last.awaitOutput("at offset");
            writer.join();
            Wait.until("all " + lines.size() + " events", Duration.ofSeconds(60),
                    () -> redis.length("node_logs_queue") >= lines.size());
            assertEquals(0, last.terminate(), last.outputText());

            List<String> shipped = redis.rawLines("node_logs_queue");
            assertEquals(lines.size(), shipped.size(), "events in Redis");
            assertEquals(lines, shipped);
        }
    }

    /** About 2,000 lines a second, a few lines per write, as a busy Xray writes them. */
    private static void appendSlowly(Path log, List<String> lines) {
        try {
            for (int i = 0; i < lines.size(); i += 10) {
                String chunk = String.join("\n", lines.subList(i, Math.min(i + 10, lines.size()))) + "\n";
                Files.write(log, chunk.getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
                Thread.sleep(5);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }


    @Test
    void killedWithSigkillWhileRetryingAgainstARedisThatIsDown() throws Exception {
        List<String> lines = AccessLines.numbered(0, 2000);
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = AgentEnv.of(redis.url(), log, "START_POSITION", "beginning",
                    "FLUSH_INTERVAL", "0.1", "RETRY_DELAY", "0.1", "MAX_RETRY_DELAY", "0.5", "REDIS_TIMEOUT", "1");
            AgentProcess first = AgentProcess.start(env, dir.resolve("first.out"));
            first.awaitOutput("at offset");
            LogFile.append(log, lines.subList(0, 1000));
            redis.awaitEvents(1000, Duration.ofSeconds(60));
            redis.stop();
            LogFile.append(log, lines.subList(1000, 2000));
            first.awaitOutput("Failed delivery");
            first.kill(); // mid-retry
            redis.start();

            AgentProcess second = AgentProcess.start(env, dir.resolve("second.out"));
            redis.awaitAtLeast(2000, Duration.ofSeconds(60));
            assertEquals(0, second.terminate(), second.outputText());
            assertEquals(lines, redis.rawLines("node_logs_queue"));
        }
    }

    @Test
    void killedWithSigkillInTheMiddleOfARenameRotation() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = AgentEnv.of(redis.url(), log, "START_POSITION", "beginning",
                    "FLUSH_INTERVAL", "0.1", "ROTATION_QUIET_PERIOD", "2");
            List<String> written;
            try (XrayWriter xray = new XrayWriter(log, true, 1)) {
                AgentProcess first = AgentProcess.start(env, dir.resolve("first.out"));
                first.awaitOutput("at offset");
                Thread.sleep(500);
                xray.between(() -> Files.move(log, dir.resolve("access.log.1")));
                Thread.sleep(300); // Xray still writes into the renamed file; the agent is draining it
                xray.reopen();
                Thread.sleep(300);
                first.kill(); // before it has moved on to the new file
                Thread.sleep(300);

                AgentProcess second = AgentProcess.start(env, dir.resolve("second.out"));
                second.awaitOutput("at offset");
                Thread.sleep(500);
                xray.close();
                written = xray.written();
                Wait.until("all events", Duration.ofSeconds(60),
                        () -> redis.length("node_logs_queue") >= written.size());
                assertEquals(0, second.terminate(), second.outputText());
                assertTrue(second.outputText().contains("reading the rest of it from " + dir.resolve("access.log.1")),
                        second.outputText());
            }
            assertEquals(written, redis.rawLines("node_logs_queue"));
        }
    }
}
