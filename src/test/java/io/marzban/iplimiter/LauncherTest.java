package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/marzban-ip-limiter-node: config/.env under the environment, and the Java it refuses. */
class LauncherTest {

    @TempDir
    Path dir;

    @Test
    void configEnvFillsWhatTheEnvironmentLeavesUnset() throws Exception {
        Path envFile = Files.createDirectories(AgentProcess.launcherHome().resolve("config")).resolve(".env");
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            Files.writeString(envFile, "# a comment\nNODE_ID=from-the-file\nNODE_NAME=\"the file's name\"\n"
                    + "CENTRAL_REDIS_URL=redis://127.0.0.1:1/0\n");
            Map<String, String> env = new HashMap<>(AgentEnv.of(redis.url(), log));
            env.remove("NODE_ID");
            env.put("NODE_NAME", "the environment's name");
            try (AgentProcess agent = AgentProcess.following(env, dir.resolve("agent.out"))) {
                assertTrue(agent.outputText().contains("Node from-the-file (the environment's name): shipping "
                        + log + " to " + "redis://127.0.0.1:" + redis.port()), agent.outputText());
            }
        } finally {
            Files.deleteIfExists(envFile);
        }
    }

    @Test
    void aJavaOlderThan17IsOneLineAndExitCode2() throws Exception {
        AgentProcess launched = AgentProcess.start(Map.of("JAVA", "/bin/false"), dir.resolve("out"), List.of());
        assertEquals(2, launched.waitForExit());
        assertEquals(List.of("marzban-ip-limiter-node: /bin/false is Java of unknown version; Java 17 or newer is "
                + "needed (set JAVA)"), launched.outputLines());
    }
}
