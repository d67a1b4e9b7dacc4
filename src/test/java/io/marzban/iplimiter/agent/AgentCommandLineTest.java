package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AccessLines;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agent started the way operators start it: exit codes and what it prints. */
class AgentCommandLineTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "NODE_ID|''|NODE_ID is empty",
        "BATCH_SIZE|abc|BATCH_SIZE='abc' is not a whole number",
        "FLUSH_INTERVAL|-1|FLUSH_INTERVAL=-1 is out of range",
        "CENTRAL_REDIS_URL|http://x|CENTRAL_REDIS_URL has scheme 'http'",
    })
    void aBadSettingIsOneLineAndExitCode2(String variable, String value, String problem) throws Exception {
        Map<String, String> env = new HashMap<>(Map.of("NODE_ID", "node-1", "MANAGEMENT_PORT", Ports.freeText(), "CENTRAL_REDIS_URL", "redis://127.0.0.1:1/0",
                "ACCESS_LOG_PATH", dir.resolve("access.log").toString()));
        env.put(variable, value);
        AgentProcess agent = AgentProcess.start(env, dir.resolve("agent.out"));

        assertEquals(2, agent.waitForExit());
        List<String> output = agent.outputLines();
        assertEquals(1, output.size(), agent.outputText());
        assertTrue(output.get(0).startsWith("marzban-ip-limiter-node: configuration error: " + problem), output.get(0));
    }

    @Test
    void sigtermWritesThePartialBatchAndExits0() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = Map.of("NODE_ID", "node-1", "MANAGEMENT_PORT", Ports.freeText(), "CENTRAL_REDIS_URL", redis.url(),
                    "ACCESS_LOG_PATH", log.toString(), "FLUSH_INTERVAL", "3600", "START_POSITION", "beginning");
            AgentProcess agent = AgentProcess.start(env, dir.resolve("agent.out"));
            Files.writeString(log, "2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted "
                    + "tcp:www.example.com:443 [VLESS TCP REALITY >> DIRECT] email: 17.maria\n");
            agent.awaitOutput("No stored position");
            Thread.sleep(500); // let the line reach the aggregator; without the stop it would wait an hour

            assertEquals(0, agent.terminate(), agent.outputText());
            assertEquals(1, redis.length("node_logs_queue"), agent.outputText());
        }
    }

    @Test
    void sigtermWhileRedisIsDownExitsWithoutCommittingAndTheNextStartShipsEverythingOnce() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = Map.of("NODE_ID", "node-1", "MANAGEMENT_PORT", Ports.freeText(), "CENTRAL_REDIS_URL", redis.url(),
                    "ACCESS_LOG_PATH", log.toString(), "FLUSH_INTERVAL", "0.2", "SHUTDOWN_TIMEOUT", "2",
                    "RETRY_DELAY", "0.1", "MAX_RETRY_DELAY", "0.5", "REDIS_TIMEOUT", "1");
            List<String> lines = AccessLines.numbered(0, 400);
            AgentProcess first = AgentProcess.start(env, dir.resolve("first.out"));
            first.awaitOutput("at offset");
            Files.writeString(log, String.join("\n", lines.subList(0, 100)) + "\n", StandardOpenOption.APPEND);
            redis.awaitEvents(100, Duration.ofSeconds(30));

            redis.stop();
            Files.writeString(log, String.join("\n", lines.subList(100, 400)) + "\n", StandardOpenOption.APPEND);
            first.awaitOutput("Failed delivery");
            assertEquals(0, first.terminate(), first.outputText());
            assertTrue(first.outputText().contains("not committed"), first.outputText());

            redis.start();
            AgentProcess second = AgentProcess.start(env, dir.resolve("second.out"));
            redis.awaitAtLeast(400, Duration.ofSeconds(30));
            assertTrue(first.outputText().contains("On delivery attempt: 0"), "the outage's first failure is logged");
            assertEquals(0, second.terminate(), second.outputText());
            assertEquals(lines, redis.rawLines("node_logs_queue"));
        }
    }

    @Test
    void logFormatJsonWritesOneJsonObjectPerLine() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Map<String, String> env = Map.of("NODE_ID", "node-1", "MANAGEMENT_PORT", Ports.freeText(),
                    "CENTRAL_REDIS_URL", redis.url(), "ACCESS_LOG_PATH", log.toString(), "LOG_FORMAT", "json");
            AgentProcess agent = AgentProcess.start(env, dir.resolve("agent.out"));
            agent.awaitOutput("at offset");
            assertEquals(0, agent.terminate());
            ObjectMapper json = new ObjectMapper();
            List<String> lines = agent.outputLines();
            assertTrue(lines.size() > 5, agent.outputText());
            for (String line : lines) {
                JsonNode entry = json.readTree(line);
                assertTrue(entry.has("level") && entry.has("message"), line);
                assertEquals("node-1", entry.at("/context/properties/node").asText(), line);
                assertTrue(!entry.path("formattedMessage").asText().contains("{}"), "values are filled in: " + line);
            }
        }
    }
}
