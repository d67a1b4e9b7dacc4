package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
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

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void killedWithSigkillWhileLinesKeepComingEveryEventArrivesExactlyOnce() throws Exception {
        List<String> lines = AccessLines.numbered(0, 4000);
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = Map.of("NODE_ID", "node-1", "CENTRAL_REDIS_URL", redis.url(),
                    "ACCESS_LOG_PATH", log.toString(), "START_POSITION", "beginning",
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
                    () -> redis.queue("node_logs_queue").size() >= lines.size());
            assertEquals(0, last.terminate(), last.outputText());

            List<String> shipped = redis.queue("node_logs_queue").stream().map(CrashRecoveryTest::rawLine).toList();
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

    private static String rawLine(String event) {
        try {
            return JSON.readTree(event).get("raw_line").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
