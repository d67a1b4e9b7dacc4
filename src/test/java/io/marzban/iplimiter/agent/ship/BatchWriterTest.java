package io.marzban.iplimiter.agent.ship;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.agent.position.FileIdentity;
import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.RedisPositionStore;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.ReplyDroppingProxy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.Arrays;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The batch writer against a real redis-server. */
class BatchWriterTest {

    private static final String QUEUE = "node_logs_queue";
    private static final KeySpace KEYS = new KeySpace(QUEUE);
    private static final String HEARTBEAT = "{node_logs_queue}:heartbeat:node-1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FileIdentity FILE = new FileIdentity(1, 2, 10, "00112233445566778899aabbccddeeff");

    @TempDir
    Path dir;

    private RedisServer redis;
    private CentralRedis central;
    private RedisPositionStore positions;
    private BatchWriter writer;

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisServer.start(dir);
        central = redis.central(300);
        positions = new RedisPositionStore(central, KEYS, "node-1");
        writer = new BatchWriter(central, positions, heartbeat(), QUEUE, () -> 0, 0);
    }

    @AfterEach
    void stopRedis() throws InterruptedException {
        central.close();
        redis.close();
    }

    @Test
    void pushesTheEventsInOrderAndCommitsThePositionWithThem() throws Exception {
        writer.write(batch(100, "e1", "e2", "e3"));
        writer.write(batch(200, "e4"));

        assertEquals(List.of("e1", "e2", "e3", "e4"), redis.queue(QUEUE));
        assertEquals(Optional.of(new FilePosition("/var/log/access.log", FILE, 200)), positions.load("/var/log/access.log"));
        try (Jedis jedis = redis.client()) {
            assertTrue(jedis.exists("{node_logs_queue}:position:node-1:/var/log/access.log"));
        }
    }

    @Test
    void aBatchThatReachedRedisBeforeItsReplyWasLostIsNotWrittenAgain() throws Exception {
        try (ReplyDroppingProxy network = new ReplyDroppingProxy(redis.port());
             CentralRedis throughNetwork = new CentralRedis(
                     new RedisEndpoint("127.0.0.1", network.port(), false, null, null, 0), null, "test", 300, QUEUE)) {
            BatchWriter remoteWriter = new BatchWriter(throughNetwork, positions, heartbeat(), QUEUE, () -> 0, 0);
            remoteWriter.write(batch(50, "e0"));

            network.dropRepliesFromNextExec();
            assertThrows(RuntimeException.class, () -> remoteWriter.write(batch(100, "e1", "e2")));
            network.deliverReplies();
            assertEquals(List.of("e0", "e1", "e2"), redis.queue(QUEUE), "Redis applied the transaction");

            remoteWriter.write(batch(100, "e1", "e2")); // Camel's redelivery of the same batch
            assertEquals(List.of("e0", "e1", "e2"), redis.queue(QUEUE));
        }
    }

    @Test
    void aBatchWhoseTransactionNeverRanIsWrittenOnTheNextAttempt() throws Exception {
        redis.stop();
        assertThrows(RuntimeException.class, () -> writer.write(batch(100, "e1")));
        redis.start();

        writer.write(batch(100, "e1"));
        assertEquals(List.of("e1"), redis.queue(QUEUE));
    }

    @Test
    void aQueueKeyOfTheWrongTypeFailsTheBatchAndLeavesThePositionWhereItWas() throws Exception {
        writer.write(batch(100, "e1"));
        try (Jedis jedis = redis.client()) {
            jedis.del(QUEUE);
            jedis.set(QUEUE, "not a list");
        }

        RuntimeException error = assertThrows(RuntimeException.class, () -> writer.write(batch(200, "e2")));
        assertTrue(error.getMessage().contains("WRONGTYPE"), error.getMessage());
        assertEquals(100, positions.load("/var/log/access.log").orElseThrow().offset());
    }

    @Test
    void aFirstBatchThatFailsLeavesNoPositionBehind() throws Exception {
        try (Jedis jedis = redis.client()) {
            jedis.set(QUEUE, "not a list");
        }
        assertThrows(RuntimeException.class, () -> writer.write(batch(100, "e1")));
        try (Jedis jedis = redis.client()) {
            assertNull(jedis.get(positions.key("/var/log/access.log")));
        }
    }

    @Test
    void everyBatchSetsTheHeartbeatInItsTransaction() throws Exception {
        writer.write(batch(100, "e1", "e2"));

        try (Jedis jedis = redis.client()) {
            String value = jedis.get(HEARTBEAT);
            JsonNode beat = JSON.readTree(value);
            assertEquals(List.of("node_id", "node_name", "version", "file", "offset", "lag_bytes", "time"),
                    iterable(beat.fieldNames()));
            assertEquals("node-1", beat.get("node_id").asText());
            assertEquals("Frankfurt 1", beat.get("node_name").asText());
            assertEquals("/var/log/access.log", beat.get("file").asText());
            assertEquals(100, beat.get("offset").asLong());
            assertEquals(0, beat.get("lag_bytes").asLong());
            assertTrue(value.contains("\"time\":1740852600.500000"), value);
            assertTrue(beat.get("version").isTextual());
            long ttl = jedis.ttl(HEARTBEAT);
            assertTrue(ttl > 0 && ttl <= 90, "TTL " + ttl);
        }
    }

    @Test
    void aHeartbeatWhileIdleCarriesTheLastCommittedPositionOrNoneYet() throws Exception {
        writer.beatWhileIdle();
        try (Jedis jedis = redis.client()) {
            JsonNode beat = JSON.readTree(jedis.get(HEARTBEAT));
            assertEquals("/var/log/access.log", beat.get("file").asText(), "the configured log before any batch");
            assertTrue(beat.get("offset").isNull());
            assertTrue(jedis.ttl(HEARTBEAT) > 0);

            writer.write(batch(300, "e1"));
            jedis.del(HEARTBEAT);
            writer.beatWhileIdle();
            assertEquals(300, JSON.readTree(jedis.get(HEARTBEAT)).get("offset").asLong());
        }
    }

    @Test
    void aHeartbeatWhileRedisIsDownIsSkippedQuietly() throws Exception {
        redis.stop();
        writer.beatWhileIdle(); // neither throws nor waits for Redis
        redis.start();
        writer.beatWhileIdle();
        try (Jedis jedis = redis.client()) {
            assertTrue(jedis.exists(HEARTBEAT));
        }
    }

    private static Heartbeat heartbeat() {
        return new Heartbeat(KEYS, "node-1", "Frankfurt 1", "/var/log/access.log",
                Clock.fixed(Instant.parse("2025-03-01T18:10:00.5Z"), ZoneOffset.UTC));
    }

    private static List<String> iterable(Iterator<String> names) {
        List<String> list = new ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }

    private static EventBatch batch(long endOffset, String... events) {
        EventBatch batch = new EventBatch();
        batch.add(Arrays.stream(events).map(event -> event.getBytes(StandardCharsets.UTF_8)).toList(),
                new FilePosition("/var/log/access.log", FILE, endOffset), 0);
        return batch;
    }
}
