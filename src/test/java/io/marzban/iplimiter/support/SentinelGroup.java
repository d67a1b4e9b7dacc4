package io.marzban.iplimiter.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import redis.clients.jedis.Jedis;

/**
 * A master, a replica and three sentinels (quorum 2, a master is down after 1 s) on loopback: the smallest
 * Sentinel setup that fails over. {@link #url()} is the agent's CENTRAL_REDIS_URL for it.
 */
public final class SentinelGroup implements AutoCloseable {

    public static final String MASTER_NAME = "mymaster";
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final RedisServer master;
    private final RedisServer replica;
    /** What the sentinels ask their clients for (requirepass); null for none. */
    private final String sentinelPassword;
    private final List<Integer> sentinelPorts = new ArrayList<>();
    private final List<Process> sentinels = new ArrayList<>();

    private SentinelGroup(RedisServer master, RedisServer replica, String sentinelPassword) {
        this.master = master;
        this.replica = replica;
        this.sentinelPassword = sentinelPassword;
    }

    public static SentinelGroup start(Path dir) throws Exception {
        return start(dir, null);
    }

    /** With sentinels that ask every client, each other included, for {@code sentinelPassword}. */
    public static SentinelGroup start(Path dir, String sentinelPassword) throws Exception {
        RedisServer master = RedisServer.start(Files.createDirectories(dir.resolve("master")));
        RedisServer replica = RedisServer.startWith(Files.createDirectories(dir.resolve("replica")),
                "--replicaof", "127.0.0.1", Integer.toString(master.port()));
        SentinelGroup group = new SentinelGroup(master, replica, sentinelPassword);
        Wait.until("the replica in sync", LIMIT, () -> info(replica, "master_link_status:up"));
        for (int i = 0; i < 3; i++) {
            group.startSentinel(Files.createDirectories(dir.resolve("sentinel-" + i)));
        }
        Wait.until("the sentinels see the replica and each other", LIMIT, group::sentinelsAgree);
        return group;
    }

    private void startSentinel(Path dir) throws Exception {
        int port = Ports.free();
        Path config = Files.writeString(dir.resolve("sentinel.conf"), String.join("\n",
                "port " + port, "bind 127.0.0.1", "dir " + dir,
                "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port() + " 2",
                "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
                "sentinel failover-timeout " + MASTER_NAME + " 5000",
                "sentinel parallel-syncs " + MASTER_NAME + " 1",
                sentinelPassword == null ? "" : "requirepass " + sentinelPassword, ""));
        sentinels.add(new ProcessBuilder("redis-server", config.toString(), "--sentinel")
                .redirectErrorStream(true).redirectOutput(dir.resolve("sentinel.log").toFile()).start());
        sentinelPorts.add(port);
    }

    private boolean sentinelsAgree() {
        for (int port : sentinelPorts) {
            try (Jedis sentinel = sentinel(port)) {
                String state = sentinel.info("sentinel");
                if (!state.contains("slaves=1,sentinels=3")) {
                    return false;
                }
            } catch (RuntimeException e) {
                return false;
            }
        }
        return true;
    }

    private Jedis sentinel(int port) {
        Jedis sentinel = new Jedis("127.0.0.1", port);
        if (sentinelPassword != null) {
            sentinel.auth(sentinelPassword);
        }
        return sentinel;
    }

    public String url() {
        return "redis-sentinel://" + sentinelPorts.stream().map(port -> "127.0.0.1:" + port)
                .collect(Collectors.joining(",")) + "/0#" + MASTER_NAME;
    }

    public RedisServer master() {
        return master;
    }

    public RedisServer replica() {
        return replica;
    }

    /** The port of the master the first sentinel that answers names. */
    public int masterPortNamedBySentinels() {
        for (int port : sentinelPorts) {
            try (Jedis sentinel = sentinel(port)) {
                return Integer.parseInt(sentinel.sentinelGetMasterAddrByName(MASTER_NAME).get(1));
            } catch (RuntimeException e) {
                // ask the next one
            }
        }
        return -1;
    }

    /** Waits until the sentinels name the replica as master and it takes writes. */
    public void awaitReplicaPromoted() throws InterruptedException {
        Wait.until("the replica promoted", LIMIT, () -> masterPortNamedBySentinels() == replica.port()
                && info(replica, "role:master"));
    }

    private static boolean info(RedisServer server, String text) {
        try (Jedis jedis = server.client()) {
            return jedis.info("replication").contains(text);
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Process sentinel : sentinels) {
            sentinel.destroy();
            sentinel.waitFor();
        }
        replica.close();
        master.close();
    }
}
