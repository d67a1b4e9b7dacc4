package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's scripts: shellcheck-clean, and right about a live agent. */
class ScriptsTest {

    @TempDir
    Path dir;

    @Test
    void everyScriptPassesShellcheck() throws Exception {
        List<String> command = new ArrayList<>(List.of("shellcheck", "bin/marzban-ip-limiter-node", ".ci/debian-base.sh"));
        try (Stream<Path> scripts = Files.list(Path.of("scripts"))) {
            scripts.filter(script -> script.toString().endsWith(".sh")).forEach(script -> command.add(script.toString()));
        }
        Result result = run(command, Map.of());
        assertEquals(0, result.exitCode(), result.output());
    }

    @Test
    void theJvmFlagsLiveInTheLauncherOnly() throws Exception {
        List<Path> places = new ArrayList<>(List.of(Path.of("README.md"), Path.of("docker", "Dockerfile")));
        for (String dirName : List.of("docs", "scripts", "scripts/bench", "scripts/bench/benchlib", "docker", "config")) {
            try (Stream<Path> files = Files.list(Path.of(dirName))) {
                // docs/PERFORMANCE.md is where each flag is explained
                files.filter(file -> Files.isRegularFile(file) && !file.endsWith("PERFORMANCE.md")).forEach(places::add);
            }
        }
        for (Path place : places) {
            String text = Files.readString(place);
            assertFalse(text.contains("-XX:+UseSerialGC") || text.contains("-Xmx64m"), place + " repeats a JVM flag");
        }
    }

    /** No benchmark runs in the suite; each bench script's --help at least proves it still starts. */
    @Test
    void everyBenchScriptStartsAndExplainsItself() throws Exception {
        List<Path> scripts;
        try (Stream<Path> files = Files.list(Path.of("scripts", "bench"))) {
            scripts = files.filter(file -> file.toString().endsWith(".py")).sorted().toList();
        }
        assertEquals(List.of("limiter-bench.py", "shipbench.py", "soak.py"),
                scripts.stream().map(script -> script.getFileName().toString()).toList());
        for (Path script : scripts) {
            Result help = run(List.of("python3", script.toString(), "--help"), Map.of("PYTHONDONTWRITEBYTECODE", "1"));
            assertEquals(0, help.exitCode(), script + ": " + help.output());
            assertTrue(help.output().startsWith("usage: " + script.getFileName()), script + ": " + help.output());
        }
    }

    @Test
    void healthCheckSaysHealthyThenNotWhileRedisIsDownThenHealthyAgain() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            String port = Ports.freeText();
            Map<String, String> env = Map.of("NODE_ID", "node-1", "CENTRAL_REDIS_URL", redis.url(),
                    "ACCESS_LOG_PATH", log.toString(), "MANAGEMENT_PORT", port, "REDIS_TIMEOUT", "1");
            AgentProcess agent = AgentProcess.start(env, dir.resolve("agent.out"));
            agent.awaitOutput("at offset");
            Map<String, String> checkEnv = Map.of("MANAGEMENT_PORT", port, "ACCESS_LOG_PATH", log.toString());
            try {
                Result healthy = awaitHealthCheck(checkEnv, 0, "OK   ready");
                assertTrue(healthy.output().contains("OK   central Redis answers"), healthy.output());

                redis.stop();
                awaitHealthCheck(checkEnv, 1, "FAIL not ready: central Redis redis://127.0.0.1:" + redis.port());

                redis.start();
                awaitHealthCheck(checkEnv, 0, "OK   ready");
            } finally {
                agent.terminate();
            }
        }
    }

    @Test
    void installsAsASystemdServiceIntoATempRootAndFindsTheLiveAgentHealthy() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            String port = Ports.freeText();
            Map<String, String> settings = Map.of("NODE_ID", "node-1", "CENTRAL_REDIS_URL", redis.url(),
                    "ACCESS_LOG_PATH", log.toString(), "MANAGEMENT_PORT", port);
            Path envFile = dir.resolve("agent.env");
            Files.writeString(envFile, settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + "\n")
                    .reduce("", String::concat));
            Path jar = Files.writeString(dir.resolve("agent.jar"), "a jar");
            Path root = Files.createDirectories(dir.resolve("root"));
            AgentProcess agent = AgentProcess.start(settings, dir.resolve("agent.out"));
            agent.awaitOutput("at offset");
            try {
                Result install = run(List.of("bash", "scripts/install.sh", "--mode", "systemd", "--root", root.toString(),
                        "--jar", jar.toString(), "--env-file", envFile.toString()), Map.of());
                assertEquals(0, install.exitCode(), install.output());
                assertTrue(install.output().contains("installed and running"), install.output());
            } finally {
                agent.terminate();
            }
            String unit = Files.readString(root.resolve("etc/systemd/system/marzban-ip-limiter-node.service"));
            assertTrue(unit.contains("User=marzban-agent"), unit);
            assertTrue(unit.contains("EnvironmentFile=/etc/marzban-ip-limiter-node/agent.env"), unit);
            assertTrue(unit.contains("ExecStart=/opt/marzban-ip-limiter-node/bin/marzban-ip-limiter-node agent"), unit);
            assertTrue(Files.isExecutable(root.resolve("opt/marzban-ip-limiter-node/bin/marzban-ip-limiter-node")));
            assertEquals("a jar", Files.readString(root.resolve("opt/marzban-ip-limiter-node/marzban-ip-limiter-node.jar")));
            assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(root.resolve("etc/marzban-ip-limiter-node/agent.env"))));
        }
    }

    @Test
    void theDockerInstallShowsItsStepsInADryRun() throws Exception {
        Path envFile = Files.writeString(dir.resolve("agent.env"), "NODE_ID=node-1\nCENTRAL_REDIS_URL=redis://r:6379/0\n");
        Result dryRun = run(List.of("bash", "scripts/install.sh", "--mode", "docker", "--dry-run",
                "--env-file", envFile.toString()), Map.of());
        assertEquals(0, dryRun.exitCode(), dryRun.output());
        assertTrue(dryRun.output().contains("checking Docker and Docker Compose"), dryRun.output());
        // the Dockerfile builds with ./mvnw and copies bin/marzban-ip-limiter-node: the build context needs them
        assertTrue(dryRun.output().contains(
                "cp -r pom.xml mvnw .mvn src routes docker scripts bin /opt/marzban-ip-limiter-node/"),
                dryRun.output());
        assertTrue(dryRun.output().contains("install -m 0600 " + envFile + " /opt/marzban-ip-limiter-node/config/.env"),
                dryRun.output());
        // Compose v2, or v1 where only Debian's docker-compose is installed
        assertTrue(dryRun.output().matches("(?s).*docker[ -]compose -f /opt/marzban-ip-limiter-node/docker/"
                + "docker-compose.yml up -d --build.*"), dryRun.output());
    }

    /** Runs health-check.sh until it exits with {@code exitCode} and says {@code text}. */
    private Result awaitHealthCheck(Map<String, String> env, int exitCode, String text) throws Exception {
        Result[] last = new Result[1];
        try {
            Wait.until("health-check.sh exit " + exitCode + " saying " + text, Duration.ofSeconds(30), () -> {
                last[0] = run(List.of("bash", "scripts/health-check.sh"), env);
                return last[0].exitCode() == exitCode && last[0].output().contains(text);
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last output:\n" + last[0].output());
        }
        return last[0];
    }

    private record Result(int exitCode, String output) { }

    private static Result run(List<String> command, Map<String, String> env) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().putAll(env);
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(process.waitFor(), output);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }
}
