package io.marzban.iplimiter.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.MigrateParams;

/**
 * Three masters made a Redis Cluster by {@code redis-cli --cluster create}, on loopback. {@link #moveSlot} moves
 * one slot to another master the way a reshard does (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) while clients
 * keep writing to it.
 */
public final class RedisClusterNodes implements AutoCloseable {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final List<RedisServer> nodes = new ArrayList<>();

    public static RedisClusterNodes start(Path dir) throws Exception {
        RedisClusterNodes cluster = new RedisClusterNodes();
        for (int i = 0; i < 3; i++) {
            cluster.nodes.add(RedisServer.startWith(Files.createDirectories(dir.resolve("node-" + i)),
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "2000"));
        }
        List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        cluster.nodes.forEach(node -> create.add("127.0.0.1:" + node.port()));
        create.add("--cluster-yes");
        Process process = new ProcessBuilder(create).redirectErrorStream(true)
                .redirectOutput(dir.resolve("create.log").toFile()).start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException("redis-cli --cluster create failed: " + Files.readString(
                    dir.resolve("create.log")));
        }
        Wait.until("the cluster is ok on every node", LIMIT, cluster::allOk);
        return cluster;
    }

    private boolean allOk() {
        for (RedisServer node : nodes) {
            try (Jedis jedis = node.client()) {
                if (!jedis.clusterInfo().contains("cluster_state:ok")) {
                    return false;
                }
            }
        }
        return true;
    }

    public List<RedisServer> nodes() {
        return List.copyOf(nodes);
    }

    /** The seed nodes, as CENTRAL_REDIS_URL names them. */
    public String url() {
        return "redis-cluster://" + nodes.stream().map(node -> "127.0.0.1:" + node.port())
                .collect(Collectors.joining(","));
    }

    /** The master that owns the slot of {@code key} now, as the first node sees it. */
    @SuppressWarnings("unchecked")
    public RedisServer ownerOf(String key) {
        try (Jedis any = nodes.get(0).client()) {
            long slot = any.clusterKeySlot(key);
            for (Object range : any.clusterSlots()) {
                List<Object> slots = (List<Object>) range;
                if ((Long) slots.get(0) <= slot && slot <= (Long) slots.get(1)) {
                    long port = (Long) ((List<Object>) slots.get(2)).get(1);
                    return nodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow();
                }
            }
        }
        throw new IllegalStateException("no node owns the slot of " + key);
    }

    /** Another master than {@code node}. */
    public RedisServer otherThan(RedisServer node) {
        return nodes.stream().filter(candidate -> candidate != node).findFirst().orElseThrow();
    }

    /**
     * Moves the slot of {@code key} from its owner to {@code target} as {@code redis-cli --cluster reshard} does,
     * a few keys per MIGRATE with {@code pauseMillis} between, while clients go on writing.
     */
    public void moveSlot(String key, RedisServer target, long pauseMillis) throws InterruptedException {
        RedisServer source = ownerOf(key);
        try (Jedis from = source.client(); Jedis to = target.client()) {
            int slot = (int) from.clusterKeySlot(key);
            String sourceId = from.clusterMyId();
            String targetId = to.clusterMyId();
            to.clusterSetSlotImporting(slot, sourceId);
            from.clusterSetSlotMigrating(slot, targetId);
            List<String> keys;
            while (!(keys = from.clusterGetKeysInSlot(slot, 1)).isEmpty()) {
                from.migrate("127.0.0.1", target.port(), 0, 5000, new MigrateParams(), keys.toArray(new String[0]));
                Thread.sleep(pauseMillis);
            }
            for (RedisServer node : nodes) {
                try (Jedis jedis = node.client()) {
                    jedis.clusterSetSlotNode(slot, targetId);
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (RedisServer node : nodes) {
            node.close();
        }
    }
}
