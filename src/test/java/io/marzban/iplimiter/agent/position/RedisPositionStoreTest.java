package io.marzban.iplimiter.agent.position;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import io.marzban.iplimiter.support.RedisServer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

/** The stored form of a position: its key, its JSON with a version, and positions stored before versions. */
class RedisPositionStoreTest {

    private static final String KEY = "{node_logs_queue}:position:node-1:/var/log/access.log";
    private static final FilePosition POSITION = new FilePosition("/var/log/access.log",
            new FileIdentity(65024, 2156559, 1024, "6748b9f5d3387f372d446c3014c0d0a6"), 48213);

    @TempDir
    Path dir;

    private RedisServer redis;
    private CentralRedis central;
    private RedisPositionStore positions;

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisServer.start(dir);
        central = redis.central(300);
        positions = new RedisPositionStore(central, new KeySpace(RedisServer.QUEUE), "node-1");
    }

    @AfterEach
    void stopRedis() throws InterruptedException {
        central.close();
        redis.close();
    }

    @Test
    void storesTheVersionFirstUnderTheNodesKey() throws Exception {
        positions.save(POSITION);
        try (Jedis jedis = redis.client()) {
            assertEquals("{\"version\":1,\"path\":\"/var/log/access.log\",\"file\":{\"device\":65024,\"inode\":2156559,"
                    + "\"fingerprintBytes\":1024,\"fingerprint\":\"6748b9f5d3387f372d446c3014c0d0a6\"},\"offset\":48213}",
                    jedis.get(KEY));
        }
        assertEquals(Optional.of(POSITION), positions.load("/var/log/access.log"));
    }

    @Test
    void treatsAPositionOfAnotherVersionAsUnreadable() throws Exception {
        try (Jedis jedis = redis.client()) {
            jedis.set(KEY, "{\"version\":2,\"path\":\"/var/log/access.log\",\"offset\":1}");
        }
        assertEquals(Optional.empty(), positions.load("/var/log/access.log"));
        try (Jedis jedis = redis.client()) {
            jedis.set(KEY, "{\"path\":\"/var/log/access.log\",\"offset\":1}");
        }
        assertEquals(Optional.empty(), positions.load("/var/log/access.log"));
    }

    @Test
    void aCommitUndoneInItsTransactionPutsThePreviousPositionBack() throws Exception {
        positions.save(POSITION);
        FilePosition later = new FilePosition(POSITION.path(), POSITION.file(), 50_000);
        try (Jedis jedis = redis.client()) {
            Connection transaction = jedis.getConnection();
            transaction.sendCommand(Protocol.Command.MULTI);
            RedisPositionStore.Commit commit = positions.commitIn(transaction, later);
            transaction.sendCommand(Protocol.Command.EXEC);
            List<Object> replies = transaction.getMany(4); // OK, QUEUED, QUEUED, EXEC's
            commit.replaced(((List<?>) replies.get(3)).get(0));
            assertEquals(false, commit.replacedNone());
            assertEquals(Optional.of(later), positions.read(jedis, POSITION.path()));
            commit.undo(jedis);
        }
        assertEquals(Optional.of(POSITION), positions.load("/var/log/access.log"));
    }

    @Test
    void theJsonIsJacksonsForEveryOffsetAndFile() throws Exception {
        ObjectMapper jackson = new ObjectMapper();
        PositionJson json = new PositionJson();
        String oddPath = "/var/log/\"xray\" \u00e9\u65e5/access.log";
        FileIdentity rotated = new FileIdentity(65024, 2156560, 17, "00ff");
        for (FilePosition position : List.of(POSITION, new FilePosition(POSITION.path(), POSITION.file(), 0),
                new FilePosition(oddPath, POSITION.file(), Long.MAX_VALUE), new FilePosition(oddPath, rotated, 9),
                new FilePosition(POSITION.path(), rotated, 10))) {
            Map<String, Object> expected = new LinkedHashMap<>();
            expected.put("version", 1);
            expected.put("path", position.path());
            expected.put("file", position.file());
            expected.put("offset", position.offset());
            assertEquals(jackson.writeValueAsString(expected), json.encode(position));
        }
    }
}
