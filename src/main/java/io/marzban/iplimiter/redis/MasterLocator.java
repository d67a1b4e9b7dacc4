package io.marzban.iplimiter.redis;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.RedisEndpoint.Node;
import java.util.List;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.util.JedisClusterCRC16;
import redis.clients.jedis.util.SafeEncoder;

/**
 * Which server the one connection goes to: the single server; the master the sentinels name now; or the cluster
 * node that owns the slot of the queue's hash tag (every key the project writes carries that tag). Asked again
 * each time a connection is opened, so a failover or a moved slot needs nothing but a new connection. Each
 * question is a short connection of its own: no pool, no subscription thread.
 */
final class MasterLocator {

    private final RedisEndpoint endpoint;
    private final JedisClientConfig sentinelConfig;
    private final JedisClientConfig seedConfig;
    private final int slot;

    /**
     * @param sentinelConfig how to talk to a sentinel (its own password, the same TLS)
     * @param seedConfig     how to talk to a cluster node (the same as to the data)
     * @param queueKey       the hash tag of every key, whose slot decides the cluster node
     */
    MasterLocator(RedisEndpoint endpoint, JedisClientConfig sentinelConfig, JedisClientConfig seedConfig,
                  String queueKey) {
        this.endpoint = endpoint;
        this.sentinelConfig = sentinelConfig;
        this.seedConfig = seedConfig;
        this.slot = JedisClusterCRC16.getSlot(queueKey);
    }

    /** Where to connect now; throws a {@link JedisException} when no sentinel or seed node could tell. */
    HostAndPort locate() {
        return switch (endpoint.topology()) {
            case STANDALONE -> address(endpoint.nodes().get(0));
            case SENTINEL -> askSentinels();
            case CLUSTER -> askSeeds();
        };
    }

    /** What the master is called in log lines: the sentinels' master name, or the queue's slot. */
    String role() {
        return switch (endpoint.topology()) {
            case STANDALONE -> "the central Redis";
            case SENTINEL -> "master '" + endpoint.masterName() + "'";
            case CLUSTER -> "the owner of slot " + slot;
        };
    }

    private HostAndPort askSentinels() {
        JedisException last = null;
        for (Node sentinel : endpoint.nodes()) {
            try (Jedis jedis = new Jedis(address(sentinel), sentinelConfig)) {
                List<String> master = jedis.sentinelGetMasterAddrByName(endpoint.masterName());
                if (master != null && master.size() == 2) {
                    return new HostAndPort(master.get(0), Integer.parseInt(master.get(1)));
                }
                last = new JedisConnectionException("sentinel " + sentinel + " knows no master '"
                        + endpoint.masterName() + "'");
            } catch (JedisException e) {
                last = e; // this sentinel is down or refuses us: ask the next one
            }
        }
        throw new JedisConnectionException("no sentinel of " + endpoint.nodes() + " names master '"
                + endpoint.masterName() + "' (last: " + last.getMessage() + ")", last);
    }

    @SuppressWarnings("unchecked")
    private HostAndPort askSeeds() {
        JedisException last = null;
        for (Node seed : endpoint.nodes()) {
            try (Jedis jedis = new Jedis(address(seed), seedConfig)) {
                // each range: start, end, then the master as host, port, id (an empty host: the node asked)
                for (Object range : jedis.clusterSlots()) {
                    List<Object> slots = (List<Object>) range;
                    if ((Long) slots.get(0) <= slot && slot <= (Long) slots.get(1)) {
                        List<Object> master = (List<Object>) slots.get(2);
                        String host = SafeEncoder.encode((byte[]) master.get(0));
                        int port = ((Long) master.get(1)).intValue();
                        return new HostAndPort(host.isEmpty() ? seed.host() : host, port);
                    }
                }
                last = new JedisConnectionException("cluster node " + seed + " knows no owner of slot " + slot);
            } catch (JedisException e) {
                last = e; // this seed is down or refuses us: ask the next one
            }
        }
        throw new JedisConnectionException("no seed node of " + endpoint.nodes() + " names the owner of slot "
                + slot + " (last: " + last.getMessage() + ")", last);
    }

    private static HostAndPort address(Node node) {
        return new HostAndPort(node.host(), node.port());
    }
}
