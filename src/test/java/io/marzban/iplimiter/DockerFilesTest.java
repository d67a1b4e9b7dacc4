package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The image and compose files as text and YAML: what DockerImageTest cannot see by running them. */
class DockerFilesTest {

    private static final Path DOCKERFILE = Path.of("docker", "Dockerfile");

    @Test
    void theImageIsBuiltInItsOwnStageAndRunsDebiansJavaRuntimeAsAnUnprivilegedUser() throws Exception {
        List<String> lines = Files.readAllLines(DOCKERFILE);
        List<String> from = lines.stream().filter(line -> line.startsWith("FROM ")).toList();
        assertEquals(2, from.size(), "multi-stage: build, then run");
        assertTrue(from.get(0).endsWith(" AS build"), from.get(0));
        assertTrue(lines.stream().anyMatch(line -> line.startsWith("COPY --from=build ")), "only the jar crosses over");
        String text = String.join("\n", lines);
        String runStage = text.substring(text.lastIndexOf(from.get(1)));
        assertTrue(runStage.contains("openjdk-17-jre-headless") && !runStage.contains("-jdk"),
                "the run stage installs Debian's Java runtime, not the JDK");

        String user = lines.stream().filter(line -> line.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
        assertFalse(user.matches("USER (root|0)(:.*)?"), user);
        int userLine = lines.indexOf(user);
        int entrypoint = indexOfPrefix(lines, "ENTRYPOINT ");
        assertTrue(userLine < entrypoint, "USER comes before the ENTRYPOINT it applies to");

        assertTrue(text.contains("ENTRYPOINT [\"/opt/marzban-ip-limiter-node/bin/marzban-ip-limiter-node\"]")
                && !text.contains("-Xmx"), "the launcher runs it, with its JVM flags: they are nowhere else");
        assertTrue(text.contains("HEALTHCHECK ") && text.contains("/observe/health"), "a health check on the agent");
        assertTrue(text.contains("ARG BASE_IMAGE=debian:bookworm-slim") && from.stream().allMatch(
                line -> line.startsWith("FROM ${BASE_IMAGE}")), "one Debian base, a build argument, for both stages");
        assertFalse(text.contains("--mount="), "no BuildKit-only syntax: Debian's docker.io and docker-compose 1.29 "
                + "build with the classic builder");
    }

    @Test
    void composeRunsOnTheHostsNetworkMountsTheLogsFolderReadOnlyTakesTheEnvFileAndRestarts() throws Exception {
        Map<String, Object> compose = yaml(Path.of("docker", "docker-compose.yml"));
        assertFalse(compose.containsKey("version"), "the Compose Specification, read by Compose v1 1.29 and v2");
        Map<String, Object> service = map(map(compose.get("services")).get("marzban-ip-limiter-node"));
        assertEquals("unless-stopped", service.get("restart"));
        assertEquals("30s", service.get("stop_grace_period"), "longer than SHUTDOWN_TIMEOUT");
        assertEquals(List.of("../config/.env"), service.get("env_file"));
        assertTrue(Files.exists(Path.of("config", ".env.example")), "the env file has a template beside it");
        assertEquals(List.of("${ACCESS_LOG_DIR:-/var/lib/marzban-node}:${ACCESS_LOG_DIR:-/var/lib/marzban-node}:ro"),
                service.get("volumes"), "the log's folder, read-only, at the same path");
        assertEquals("host", service.get("network_mode"), "as marzban-node: no bridge, no private addresses");
        Map<String, Object> build = map(service.get("build"));
        assertEquals("host", build.get("network"));
        assertTrue(Files.exists(Path.of("docker").resolve(build.get("context").toString())
                .resolve(build.get("dockerfile").toString())), "the build points at the Dockerfile");
    }

    @Test
    void theBuildContextLeavesOutBuildOutputHistoryAndSettings() throws Exception {
        List<String> ignored = Files.readAllLines(Path.of(".dockerignore"));
        assertTrue(ignored.containsAll(List.of("target/", ".git/", "config/.env", "config/limiter.env")),
                ignored.toString());
    }

    @Test
    void theLimiterServiceRunsTheSameImageWithTheArgumentLimiter() throws Exception {
        Map<String, Object> compose = yaml(Path.of("docker", "docker-compose.limiter.yml"));
        Map<String, Object> service = map(map(compose.get("services")).get("marzban-ip-limiter"));
        assertEquals(List.of("limiter"), service.get("command"));
        assertEquals(List.of("../config/limiter.env"), service.get("env_file"));
        assertTrue(Files.exists(Path.of("config", "limiter.env.example")));
        assertEquals("host", service.get("network_mode"));
        assertTrue(map(service.get("healthcheck")).get("test").toString().contains("$${MANAGEMENT_PORT:-9877}"),
                "the health check asks the limiter's own default port");
    }

    private static int indexOfPrefix(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no line starts with " + prefix);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(Path file) throws Exception {
        return (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }
}
