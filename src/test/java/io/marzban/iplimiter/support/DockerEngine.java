package io.marzban.iplimiter.support;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Docker engine the container tests use: one that already answers, else a dockerd of the test's own
 * (root only) on a socket of its own, with no bridge and no iptables rules, so that every container runs on
 * the host's network and talks to loopback only. Its data lives under {@link #CACHE}, so that the base
 * image and the build's layers are there for the next run; {@link #close()} stops the dockerd it started.
 */
public final class DockerEngine implements AutoCloseable {

    /** Kept between runs: the engine's images and layers, and the base image's tar. */
    public static final Path CACHE = Path.of("/var/cache/marzban-ip-limiter-node-test");
    private static final Path EXEC_ROOT = Path.of("/run/marzban-ip-limiter-node-test");

    /** What a command printed (standard output and error together) and its exit code. */
    public record Result(int exitCode, String output) {
        public Result ok() {
            if (exitCode != 0) {
                throw new AssertionError("exit code " + exitCode + ":\n" + output);
            }
            return this;
        }
    }

    private final Map<String, String> env;
    private final Process daemon;
    private final FileLock lock;

    private DockerEngine(Map<String, String> env, Process daemon, FileLock lock) {
        this.env = env;
        this.daemon = daemon;
        this.lock = lock;
    }

    /** Waits for any other container test on this machine (they share names and the cache), then finds or starts one. */
    public static DockerEngine start() throws Exception {
        Files.createDirectories(CACHE);
        FileLock lock = FileChannel.open(CACHE.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)
                .lock();
        Map<String, String> env = new HashMap<>();
        if (answers(env)) {
            return new DockerEngine(env, null, lock);
        }
        env.put("DOCKER_HOST", "unix://" + EXEC_ROOT.resolve("docker.sock"));
        if (answers(env)) {
            return new DockerEngine(env, null, lock); // ours, left running by a run that was killed
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            lock.release();
            throw new AssertionError("no Docker engine answers, and only root can start dockerd");
        }
        Files.createDirectories(EXEC_ROOT);
        Process daemon = new ProcessBuilder("dockerd", "--bridge=none", "--iptables=false",
                "--data-root", CACHE.resolve("docker").toString(), "--exec-root", EXEC_ROOT.toString(),
                "--pidfile", EXEC_ROOT.resolve("dockerd.pid").toString(), "-H", env.get("DOCKER_HOST"))
                .redirectErrorStream(true)
                .redirectOutput(CACHE.resolve("dockerd.log").toFile())
                .start();
        DockerEngine engine = new DockerEngine(env, daemon, lock);
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::destroy));
        try {
            Wait.until("dockerd answers", Duration.ofSeconds(60), () -> !daemon.isAlive() || answers(env));
        } catch (AssertionError e) {
            engine.close();
            throw e;
        }
        if (!daemon.isAlive()) {
            engine.close();
            throw new AssertionError("dockerd exited; see " + CACHE.resolve("dockerd.log"));
        }
        return engine;
    }

    private static boolean answers(Map<String, String> env) {
        try {
            return run(List.of("docker", "version", "--format", "{{.Server.Version}}"), env, null, Duration.ofSeconds(20))
                    .exitCode() == 0;
        } catch (IOException e) {
            throw new AssertionError("no docker command: apt-get install -y docker.io (.ci/run does)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code docker ARGUMENTS...} against this engine. */
    public Result docker(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(arguments));
        return run(command, env, null, Duration.ofMinutes(20));
    }

    /** Any command that talks to this engine (a compose tool, a script), in {@code dir}, with {@code extraEnv}. */
    public Result command(List<String> command, Path dir, Map<String, String> extraEnv)
            throws IOException, InterruptedException {
        Map<String, String> all = new HashMap<>(env);
        all.putAll(extraEnv);
        return run(command, all, dir, Duration.ofMinutes(20));
    }

    /** Docker Compose v2 (the docker plugin) where it is installed, else v1 (docker-compose, Debian's). */
    public List<String> compose() throws IOException, InterruptedException {
        return docker("compose", "version").exitCode() == 0 ? List.of("docker", "compose") : List.of("docker-compose");
    }

    private static Result run(List<String> command, Map<String, String> env, Path dir, Duration limit)
            throws IOException, InterruptedException {
        Path output = Files.createTempFile("docker-command-", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().putAll(env);
            if (dir != null) {
                builder.directory(dir.toFile());
            }
            Process process = builder.start();
            if (!process.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not end within " + limit + ":\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** Stops the dockerd this started (SIGTERM to its pid; it stops its containers and containerd first). */
    @Override
    public void close() throws Exception {
        try {
            if (daemon != null && daemon.isAlive()) {
                daemon.destroy();
                if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
                    daemon.destroyForcibly().waitFor();
                }
            }
        } finally {
            lock.release();
            lock.channel().close();
        }
    }
}
