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

/** No Docker engine runs here, so the image and compose files are checked as text and YAML. */
class DockerFilesTest {

    private static final Path DOCKERFILE = Path.of("docker", "Dockerfile");

    @Test
    void theImageIsBuiltInItsOwnStageAndRunsASmallJreAsAnUnprivilegedUser() throws Exception {
        List<String> lines = Files.readAllLines(DOCKERFILE);
        List<String> from = lines.stream().filter(line -> line.startsWith("FROM ")).toList();
        assertEquals(2, from.size(), "multi-stage: build, then run");
        assertTrue(from.get(0).endsWith(" AS build"), from.get(0));
        assertTrue(from.get(1).contains("-jre"), "the run stage is a JRE, not a JDK: " + from.get(1));
        assertTrue(lines.stream().anyMatch(line -> line.startsWith("COPY --from=build ")), "only the jar crosses over");

        String user = lines.stream().filter(line -> line.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
        assertFalse(user.matches("USER (root|0)(:.*)?"), user);
        int userLine = lines.indexOf(user);
        int entrypoint = indexOfPrefix(lines, "ENTRYPOINT ");
        assertTrue(userLine < entrypoint, "USER comes before the ENTRYPOINT it applies to");

        String text = String.join("\n", lines);
        assertTrue(text.contains("ENTRYPOINT [\"/opt/marzban-ip-limiter-node/bin/marzban-ip-limiter-node\"]")
                && !text.contains("-Xmx"), "the launcher runs it, with its JVM flags: they are nowhere else");
        assertTrue(text.contains("HEALTHCHECK ") && text.contains("/observe/health"), "a health check on the agent");
        assertTrue(text.contains("MANAGEMENT_HOST=127.0.0.1"), "the management server stays inside the container");
    }

    @Test
    void composeMountsTheLogReadOnlyTakesTheEnvFileAndRestarts() throws Exception {
        Map<String, Object> compose = yaml(Path.of("docker", "docker-compose.yml"));
        Map<String, Object> service = map(map(compose.get("services")).get("marzban-ip-limiter-node"));
        assertEquals("unless-stopped", service.get("restart"));
        assertEquals("30s", service.get("stop_grace_period"), "longer than SHUTDOWN_TIMEOUT");
        assertEquals(List.of("../config/.env"), service.get("env_file"));
        assertTrue(Files.exists(Path.of("config", ".env.example")), "the env file has a template beside it");
        List<?> volumes = (List<?>) service.get("volumes");
        assertEquals(1, volumes.size());
        assertTrue(volumes.get(0).toString().endsWith(":ro"), "the access log is mounted read-only: " + volumes);
        String mountedAt = volumes.get(0).toString().split(":")[1];
        assertTrue(map(service.get("environment")).get("ACCESS_LOG_PATH").toString().startsWith(mountedAt + "/"));
        Map<String, Object> build = map(service.get("build"));
        assertTrue(Files.exists(Path.of("docker").resolve(build.get("context").toString())
                .resolve(build.get("dockerfile").toString())), "the build points at the Dockerfile");
        assertEquals(List.of("marzban"), service.get("networks"));
        assertTrue(map(compose.get("networks")).containsKey("marzban"));
    }

    @Test
    void theBuildContextLeavesOutBuildOutputAndHistory() throws Exception {
        List<String> ignored = Files.readAllLines(Path.of(".dockerignore"));
        assertTrue(ignored.contains("target/") && ignored.contains(".git/"), ignored.toString());
    }

    @Test
    void theMarzbanOverrideAddsAnOptionalDependency() throws Exception {
        Map<String, Object> compose = yaml(Path.of("docker", "docker-compose.marzban.yml"));
        Map<String, Object> service = map(map(compose.get("services")).get("marzban-ip-limiter-node"));
        Map<String, Object> marzban = map(map(service.get("depends_on")).get("marzban"));
        assertEquals(false, marzban.get("required"));
    }

    @Test
    void theLimiterServiceRunsTheSameImageWithTheArgumentLimiter() throws Exception {
        Map<String, Object> compose = yaml(Path.of("docker", "docker-compose.limiter.yml"));
        Map<String, Object> service = map(map(compose.get("services")).get("marzban-ip-limiter"));
        assertEquals(List.of("limiter"), service.get("command"));
        assertEquals(List.of("../config/limiter.env"), service.get("env_file"));
        assertTrue(Files.exists(Path.of("config", "limiter.env.example")));
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
