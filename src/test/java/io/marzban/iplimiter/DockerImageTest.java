package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.DockerEngine;
import io.marzban.iplimiter.support.DockerEngine.Result;
import io.marzban.iplimiter.support.ExactlyOnce;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import io.marzban.iplimiter.support.XrayWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image, built from the repository's tracked files and run by a real Docker engine (docs/INSTALLATION.md#docker):
 * on the host's network, against a redis-server on loopback, with a log the test writes on the host.
 */
class DockerImageTest {

    private static final String IMAGE = "marzban-ip-limiter-node:latest";
    /** The names the compose files give their containers. */
    private static final List<String> COMPOSE_CONTAINERS = List.of("marzban-ip-limiter-node", "marzban-ip-limiter");

    private static DockerEngine engine;
    private static Path clone;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildTheImageFromACleanCopy(@TempDir Path cloneParent) throws Exception {
        engine = DockerEngine.start();
        clone = cleanCopy(cloneParent.resolve("clone"));
        removeContainers(COMPOSE_CONTAINERS);
        engine.command(List.of("sh", ".ci/debian-base.sh"), clone, Map.of("TEST_CACHE", DockerEngine.CACHE.toString()))
                .ok();
        long start = System.nanoTime();
        engine.docker("build", "--network", "host", "-f", "docker/Dockerfile", "-t", IMAGE, clone.toString()).ok();
        long size = Long.parseLong(engine.docker("image", "inspect", "-f", "{{.Size}}", IMAGE).ok().output().trim());
        System.out.printf("docker image %s: %.1f MB, built in %.0f s%n", IMAGE, size / 1e6,
                (System.nanoTime() - start) / 1e9);
    }

    @AfterAll
    static void stopTheEngine() throws Exception {
        if (engine != null) {
            removeContainers(COMPOSE_CONTAINERS);
            engine.close();
        }
    }

    @Test
    void runsAsUid10001ReadsTheMountedLogReadOnlyShipsItAndTurnsHealthy() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = accessLog();
            String name = "mil-test-agent";
            String port = Ports.freeText();
            long start = System.nanoTime();
            runAgent(name, redis, log, port);
            try {
                Wait.until("the agent ready", Duration.ofMinutes(2), () -> ready(port));
                double ready = (System.nanoTime() - start) / 1e9;
                List<String> lines = AccessLines.numbered(0, 500);
                LogFile.append(log, lines);
                ExactlyOnce.assertShipped(redis, lines, Duration.ofMinutes(2));
                awaitHealth(name, "healthy");
                System.out.printf("docker run to ready: %.1f s, to healthy: %.1f s%n", ready,
                        (System.nanoTime() - start) / 1e9);

                assertEquals("false", engine.docker("inspect", "-f", "{{range .Mounts}}{{.RW}}{{end}}", name)
                        .ok().output().trim(), "the log's folder is mounted read-only");
                // the container's first process, seen from the host
                String pid = engine.docker("inspect", "-f", "{{.State.Pid}}", name).ok().output().trim();
                assertEquals("java", Files.readString(Path.of("/proc", pid, "comm")).trim(),
                        "the launcher execs java, so docker stop's SIGTERM reaches it");
                List<String> status = Files.readAllLines(Path.of("/proc", pid, "status"));
                assertTrue(status.stream().anyMatch(line -> line.matches("Uid:\\s+10001\\s.*"))
                        && status.stream().anyMatch(line -> line.matches("Gid:\\s+10001\\s.*")), status.toString());
                System.out.println("docker container idle, java's " + status.stream()
                        .filter(line -> line.startsWith("VmRSS:")).findFirst().orElseThrow().replaceAll("\\s+", " "));
            } finally {
                removeContainers(List.of(name));
            }
        }
    }

    @Test
    void aWrongSettingExitsWith2AndSaysWhichInOneLine() throws Exception {
        String name = "mil-test-wrong-setting";
        try {
            Result run = engine.docker("run", "--network", "host", "--name", name, "-e", "NODE_ID=node-1",
                    "-e", "CENTRAL_REDIS_URL=redis://127.0.0.1:1/0", "-e", "MANAGEMENT_PORT=0", IMAGE);
            assertEquals(2, run.exitCode(), run.output());
            List<String> logs = engine.docker("logs", name).ok().output().lines().toList();
            assertEquals(List.of("marzban-ip-limiter-node: configuration error: MANAGEMENT_PORT=0 is out of range; "
                    + "expected 1 to 65535 (default 9876)"), logs);
        } finally {
            removeContainers(List.of(name));
        }
    }

    @Test
    void resumesExactlyAcrossDockerStopAndDockerKill() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = accessLog();
            String name = "mil-test-restarts";
            runAgent(name, redis, log, Ports.freeText(), "FLUSH_INTERVAL", "0.1");
            try (XrayWriter xray = new XrayWriter(log, true, 2)) {
                redis.awaitAtLeast(200, Duration.ofMinutes(2));
                engine.docker("stop", "--time", "30", name).ok();
                assertEquals("0", engine.docker("inspect", "-f", "{{.State.ExitCode}}", name).ok().output().trim());
                assertTrue(engine.docker("logs", name).ok().output()
                        .contains("every read event is written and its position committed"), "a clean stop");

                int shipped = redis.queue(RedisServer.QUEUE).size();
                engine.docker("start", name).ok();
                redis.awaitAtLeast(shipped + 200, Duration.ofMinutes(2));
                engine.docker("kill", name).ok();

                shipped = redis.queue(RedisServer.QUEUE).size();
                engine.docker("start", name).ok();
                redis.awaitAtLeast(shipped + 200, Duration.ofMinutes(2));
                xray.close();
                ExactlyOnce.assertShipped(redis, xray.written(), Duration.ofMinutes(2));
            } finally {
                removeContainers(List.of(name));
            }
        }
    }

    @Test
    void theLimiterComposeFileStartsTheLimiterAndItAnswersHealth() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            String port = Ports.freeText();
            Files.writeString(clone.resolve("config/limiter.env"), "CENTRAL_REDIS_URL=" + redis.url() + "\n"
                    + "LIMITER_ACTION=report\nMANAGEMENT_PORT=" + port + "\n");
            List<String> compose = new ArrayList<>(engine.compose());
            compose.addAll(List.of("-f", "docker/docker-compose.limiter.yml", "up", "-d"));
            try {
                engine.command(compose, clone, Map.of()).ok();
                awaitHealth("marzban-ip-limiter", "healthy");
                assertTrue(ready(port), "the limiter answers health on the host's loopback");
            } finally {
                removeContainers(List.of("marzban-ip-limiter"));
            }
        }
    }

    @Test
    void installShInstallsAnAgentThatShipsAndHealthCheckShReportsIt() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = accessLog();
            String port = Ports.freeText();
            Path settings = Files.writeString(dir.resolve("agent.env"), "NODE_ID=node-1\nCENTRAL_REDIS_URL="
                    + redis.url() + "\nACCESS_LOG_PATH=" + log + "\nMANAGEMENT_PORT=" + port + "\n");
            try {
                Result install = engine.command(List.of("bash", "scripts/install.sh", "--mode", "docker",
                        "--root", dir.resolve("root").toString(), "--env-file", settings.toString()), clone, Map.of());
                assertEquals(0, install.exitCode(), install.output());
                assertTrue(install.output().contains("installed and running"), install.output());

                List<String> lines = AccessLines.numbered(0, 100);
                LogFile.append(log, lines);
                ExactlyOnce.assertShipped(redis, lines, Duration.ofMinutes(2));
                Result check = engine.command(List.of("bash", "scripts/health-check.sh", "--container",
                        "marzban-ip-limiter-node"), clone, Map.of("MANAGEMENT_PORT", port));
                assertEquals(0, check.exitCode(), check.output());
                assertTrue(check.output().contains("OK   ready") && check.output().contains("INFO events shipped 100,"),
                        check.output());
            } finally {
                removeContainers(List.of("marzban-ip-limiter-node"));
            }
        }
    }

    /** An empty access log in a folder of its own, readable by the image's group 10001 only, as docs/INSTALLATION.md grants it. */
    private Path accessLog() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("marzban-node"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
        Path log = Files.createFile(folder.resolve("access.log"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
        engine.command(List.of("chgrp", "10001", folder.toString(), log.toString()), dir, Map.of()).ok();
        return log;
    }

    /** The agent's container, detached, with the log's folder mounted read-only at the same path. */
    private static void runAgent(String name, RedisServer redis, Path log, String managementPort, String... settings)
            throws Exception {
        List<String> command = new ArrayList<>(List.of("run", "-d", "--network", "host", "--name", name,
                "-v", log.getParent() + ":" + log.getParent() + ":ro",
                "-e", "NODE_ID=node-1", "-e", "CENTRAL_REDIS_URL=" + redis.url(), "-e", "ACCESS_LOG_PATH=" + log,
                "-e", "START_POSITION=beginning", "-e", "MANAGEMENT_PORT=" + managementPort));
        for (int i = 0; i < settings.length; i += 2) {
            command.addAll(List.of("-e", settings[i] + "=" + settings[i + 1]));
        }
        command.add(IMAGE);
        engine.docker(command.toArray(String[]::new)).ok();
    }

    /** On the host's network the host reaches the management server on its own loopback. */
    private static boolean ready(String port) {
        var answer = Http.get("http://127.0.0.1:" + port + "/observe/health");
        return answer != null && answer.statusCode() == 200;
    }

    private static void awaitHealth(String container, String status) throws InterruptedException {
        String[] last = {""};
        try {
            // the first check runs one interval (30 s) after the start
            Wait.until(container + " " + status, Duration.ofMinutes(3), () -> {
                try {
                    last[0] = engine.docker("inspect", "-f", "{{.State.Health.Status}}", container).output().trim();
                    return last[0].equals(status);
                } catch (Exception e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (last: " + last[0] + "); its logs:\n" + logs(container));
        }
    }

    private static String logs(String container) {
        try {
            return engine.docker("logs", container).output();
        } catch (Exception e) {
            return "(none: " + e + ")";
        }
    }

    private static void removeContainers(List<String> names) throws Exception {
        for (String name : names) {
            engine.docker("rm", "--force", name); // absent is fine
        }
    }

    /** The repository's tracked files as they are now: what a fresh clone holds, with this change in it. */
    private static Path cleanCopy(Path target) throws Exception {
        Process git = new ProcessBuilder("git", "ls-files", "-z").redirectErrorStream(true).start();
        String[] files = new String(git.getInputStream().readAllBytes()).split("\0");
        assertEquals(0, git.waitFor(), "git ls-files");
        for (String file : files) {
            Path source = Path.of(file);
            if (!file.isEmpty() && Files.isRegularFile(source)) {
                Files.createDirectories(target.resolve(file).getParent());
                Files.copy(source, target.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return target;
    }
}
