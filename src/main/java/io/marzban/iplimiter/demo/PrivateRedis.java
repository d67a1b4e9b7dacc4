package io.marzban.iplimiter.demo;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

/** The demo's own redis-server, on a free loopback port, keeping nothing on disk. */
final class PrivateRedis implements AutoCloseable {

    private final Process process;
    private final int port;

    private PrivateRedis(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static PrivateRedis start(Path dir) throws IOException, InterruptedException {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path log = dir.resolve("redis.log");
        Process process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        PrivateRedis redis = new PrivateRedis(process, port);
        for (int attempt = 0; attempt < 100 && process.isAlive(); attempt++) {
            if (redis.answers()) {
                return redis;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        redis.close();
        List<String> lines = Files.readAllLines(log);
        throw new IOException("redis-server did not start on port " + port + ": "
                + String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size())));
    }

    String url() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    Jedis client() {
        return new Jedis("127.0.0.1", port);
    }

    private boolean answers() {
        try (Jedis jedis = client()) {
            return "PONG".equals(jedis.ping());
        } catch (JedisException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
