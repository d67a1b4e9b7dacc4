package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.redis.CentralRedis;
import redis.clients.jedis.Jedis;

/**
 * A real redis-server on a free loopback port, in a directory of its own. Data is kept in an append-only file
 * so that {@link #stop()} and {@link #start()} behave like an outage; {@link #startEmpty()} is a Redis that lost it.
 * {@link #startWith} starts one with more options: a replica, a cluster node ({@link SentinelGroup},
 * {@link RedisClusterNodes}); {@link #kill()}, {@link #freeze()} and {@link #thaw()} are the faults they suffer.
 */
public final class RedisServer implements AutoCloseable {

    /** The agent's default central queue. */
    public static final String QUEUE = "node_logs_queue";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final int port;
    private final List<String> options;
    private final int tlsPort;
    private Process process;

    private RedisServer(Path dir, int port, int tlsPort, List<String> options) {
        this.dir = dir;
        this.port = port;
        this.tlsPort = tlsPort;
        this.options = options;
    }

    public static RedisServer start(Path dir) throws Exception {
        return startWith(dir);
    }

    /** Started with these redis-server options on top, e.g. {@code --replicaof 127.0.0.1 6379}. */
    public static RedisServer startWith(Path dir, String... options) throws Exception {
        RedisServer server = new RedisServer(dir, Ports.free(), 0, List.of(options));
        server.start();
        return server;
    }

    /** Also listens for TLS on {@link #tlsPort()} with this certificate; the plain port stays for the test. */
    public static RedisServer startWithTls(Path dir, TestCertificates certificates, String serverName,
                                           boolean requireClientCertificate) throws Exception {
        int tlsPort = Ports.free();
        RedisServer server = new RedisServer(dir, Ports.free(), tlsPort, List.of(
                "--tls-port", Integer.toString(tlsPort),
                "--tls-cert-file", certificates.cert(serverName).toString(),
                "--tls-key-file", certificates.key(serverName).toString(),
                "--tls-ca-cert-file", certificates.ca().toString(),
                "--tls-auth-clients", requireClientCertificate ? "yes" : "no"));
        server.start();
        return server;
    }

    public int tlsPort() {
        return tlsPort;
    }

    public void start() throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                "--dir", dir.toString()));
        command.addAll(options);
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile())
                .start();
        Wait.until("redis-server answers on port " + port, Duration.ofSeconds(20), this::answers);
    }

    /** Starts again with every key gone, as after a Redis restart that lost its data. */
    public void startEmpty() throws Exception {
        try (var files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("appendonly")).toList()) {
                deleteRecursively(file);
            }
        }
        start();
    }

    public void stop() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }

    /** kill -9: whatever it had not yet passed to its replicas (or written to disk) is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGSTOP: it answers nobody, replication included, until {@link #thaw()}. */
    public void freeze() throws InterruptedException {
        signal("-STOP");
    }

    public void thaw() throws InterruptedException {
        signal("-CONT");
    }

    private void signal(String signal) throws InterruptedException {
        try {
            new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Its directory: the append-only files live here. */
    public Path dir() {
        return dir;
    }

    public String url() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    public int port() {
        return port;
    }

    /** The project's own connection to this server, as the agent and the limiter hold it. */
    public CentralRedis central(int timeoutMillis) {
        return new CentralRedis(new RedisEndpoint("127.0.0.1", port, false, null, null, 0), null, "test",
                timeoutMillis, QUEUE);
    }

    public Jedis client() {
        return new Jedis("127.0.0.1", port);
    }

    /** Waits until the agent's default queue holds exactly {@code count} events. */
    public void awaitEvents(int count, Duration limit) throws InterruptedException {
        Wait.until(count + " events", limit, () -> length(QUEUE) == count);
    }

    /** Waits until the agent's default queue holds at least {@code count} events. */
    public void awaitAtLeast(int count, Duration limit) throws InterruptedException {
        Wait.until("at least " + count + " events", limit, () -> length(QUEUE) >= count);
    }

    /** How many elements the list holds (LLEN: a wait polls this, never the whole list, however long it is). */
    public long length(String key) {
        try (Jedis jedis = client()) {
            return jedis.llen(key);
        }
    }

    /** The queue's elements in file order (LPUSH puts the newest at the head). */
    public List<String> queue(String key) {
        try (Jedis jedis = client()) {
            List<String> newestFirst = new java.util.ArrayList<>(jedis.lrange(key, 0, -1));
            java.util.Collections.reverse(newestFirst);
            return newestFirst;
        }
    }

    /** The {@code raw_line} of each event in the queue, in file order. */
    public List<String> rawLines(String key) {
        List<String> lines = new java.util.ArrayList<>();
        for (String event : queue(key)) {
            try {
                lines.add(JSON.readTree(event).get("raw_line").asText());
            } catch (IOException e) {
                throw new AssertionError("not a JSON event: " + event, e);
            }
        }
        return lines;
    }

    private boolean answers() {
        try (Jedis jedis = client()) {
            return "PONG".equals(jedis.ping());
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            thaw(); // a frozen server would not stop
            stop();
        }
    }


    public static void deleteRecursively(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            try (var children = Files.list(path)) {
                for (Path child : children.toList()) {
                    deleteRecursively(child);
                }
            }
        }
        Files.delete(path);
    }
}
