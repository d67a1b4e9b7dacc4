package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.ExactlyOnce;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.RedisClusterNodes;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.SentinelGroup;
import io.marzban.iplimiter.support.Wait;
import io.marzban.iplimiter.support.XrayWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.args.ClientType;
import redis.clients.jedis.params.ClientKillParams;

/**
 * Sentinel failover, a Redis Cluster resharding the queue's slot, a central Redis back from an older copy of its
 * data: every time, each line arrives exactly once (compared as in
 * {@link FaultInjectionTest}). Real redis-server processes on loopback.
 */
class HighAvailabilityTest {

    private static final Duration LIMIT = Duration.ofSeconds(90);
    private static final String POSITION = "{node_logs_queue}:position:node-1:";

    @TempDir
    Path dir;

    private Map<String, String> env(String url, Path log) {
        return AgentEnv.of(url, log, "START_POSITION", "beginning", "FLUSH_INTERVAL", "0.1", "RETRY_DELAY", "0.1",
                "MAX_RETRY_DELAY", "0.5", "REDIS_TIMEOUT", "1");
    }

    @Test
    void aMasterKilledMidStreamIsFollowedToThePromotedReplicaWithNothingLostOrDoubled() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        try (SentinelGroup redis = SentinelGroup.start(dir.resolve("redis"))) {
            Map<String, String> env = env(redis.url(), log);
            try (RunningAgent agent = RunningAgent.start(env);
                 XrayWriter xray = new XrayWriter(log, true, 1, 5)) { // ~5,000 lines/s
                redis.master().awaitAtLeast(2_000, LIMIT);
                long killed = System.nanoTime();
                redis.master().kill();
                redis.awaitReplicaPromoted();
                reportResumption(killed, redis.replica());
                Thread.sleep(1_000);
                xray.close();
                ExactlyOnce.assertShipped(redis.replica(), xray.written(), LIMIT);
                assertEquals(1, agent.timesLogged("The central Redis now writes to 127.0.0.1:"
                        + redis.replica().port()), "one line when the agent followed the new master, no restart");
                String health = Http.get("http://127.0.0.1:" + env.get("MANAGEMENT_PORT")
                        + "/observe/health?exposureLevel=full&data=true").body();
                assertTrue(health.contains("#mymaster at 127.0.0.1:" + redis.replica().port()), health);
            }
        }
    }

    @Test
    void batchesTheReplicaNeverReceivedAreReadAgainFromTheFile() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        try (SentinelGroup redis = SentinelGroup.start(dir.resolve("redis"));
             RunningAgent agent = RunningAgent.start(env(redis.url(), log));
             XrayWriter xray = new XrayWriter(log, true, 1, 5)) {
            redis.master().awaitAtLeast(2_000, LIMIT);
            // the replica stops hearing from the master, which goes on acknowledging batches, then dies
            redis.replica().freeze();
            try (Jedis master = redis.master().client()) {
                master.clientKill(ClientKillParams.clientKillParams().type(ClientType.REPLICA));
            }
            Thread.sleep(400);
            long killed = System.nanoTime();
            redis.master().kill();
            redis.replica().thaw();
            redis.awaitReplicaPromoted();
            reportResumption(killed, redis.replica());
            Thread.sleep(1_000);
            xray.close();
            ExactlyOnce.assertShipped(redis.replica(), xray.written(), LIMIT);
            assertTrue(agent.logged("lost by the failover"), "the batches only the old master had are re-sent");
        }
    }

    /** Prints (never asserts) how long after the promotion the first batch reached the new master. */
    private static void reportResumption(long killedNanos, RedisServer promoted) throws InterruptedException {
        long promotedAt = System.nanoTime();
        long before = queueLength(promoted);
        Wait.until("a batch on the new master", LIMIT, () -> queueLength(promoted) > before);
        System.out.printf("promotion seen %.2f s after the kill; first batch on the new master %.2f s after it%n",
                (promotedAt - killedNanos) / 1e9, (System.nanoTime() - promotedAt) / 1e9);
    }

    private static long queueLength(RedisServer server) {
        try (Jedis jedis = server.client()) {
            return jedis.llen(RedisServer.QUEUE);
        }
    }

    @Test
    void theQueuesSlotMovesToAnotherMasterWhileTheAgentShips() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        try (RedisClusterNodes cluster = RedisClusterNodes.start(dir.resolve("cluster"));
             RunningAgent agent = RunningAgent.start(env(cluster.url(), log));
             XrayWriter xray = new XrayWriter(log, true, 1, 2)) {
            RedisServer owner = cluster.ownerOf(RedisServer.QUEUE);
            owner.awaitAtLeast(1_000, LIMIT);
            RedisServer target = cluster.otherThan(owner);
            cluster.moveSlot(RedisServer.QUEUE, target, 200); // the queue, position and heartbeat move one by one
            target.awaitAtLeast(xray.count(), LIMIT);
            Thread.sleep(500);
            xray.close();
            ExactlyOnce.assertShipped(target, xray.written(), LIMIT);
            try (Jedis jedis = target.client()) {
                assertTrue(jedis.exists(POSITION + log), "the position moved with the queue");
                assertTrue(jedis.exists("{node_logs_queue}:heartbeat:node-1"));
            }
            assertTrue(agent.logged("The central Redis now writes to 127.0.0.1:" + target.port()));
            assertFalse(agent.logged("CROSSSLOT"));
        }
    }

    @Test
    void aCentralRedisBackFromAnOlderCopyOfItsDataIsRefilledFromTheFile() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        List<String> lines = AccessLines.numbered(0, 300);
        Path older = dir.resolve("older");
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             RunningAgent agent = RunningAgent.start(env(redis.url(), log))) {
            LogFile.append(log, lines.subList(0, 100));
            redis.awaitEvents(100, LIMIT);
            redis.stop();
            copy(redis.dir().resolve("appendonlydir"), older);
            redis.start();
            LogFile.append(log, lines.subList(100, 200));
            redis.awaitEvents(200, LIMIT);
            // as after a failover to a replica that had 100 events and the position after them, not 200
            redis.stop();
            RedisServer.deleteRecursively(redis.dir().resolve("appendonlydir"));
            copy(older, redis.dir().resolve("appendonlydir"));
            redis.start();
            LogFile.append(log, lines.subList(200, 300));
            ExactlyOnce.assertShipped(redis, lines, LIMIT);
            assertEquals(1, agent.timesLogged("re-reading"));
        }
    }


    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }
}
