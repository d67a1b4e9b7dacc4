package io.marzban.iplimiter.agent.position;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

/**
 * Positions kept in the central Redis, one key per node and file:
 * {@code {<QUEUE_KEY>}:position:<NODE_ID>:<path>} holding a small JSON document with a format version
 * ({@link PositionJson}).
 * The batch writer sets the key in the same transaction as the events it covers ({@link #commitIn}).
 */
public final class RedisPositionStore implements PositionStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedisPositionStore.class);

    private final CentralRedis redis;
    private final KeySpace keys;
    private final String nodeId;
    /** Where reading of each path started in this process (loaded or saved), until a batch commits. */
    private final Map<String, FilePosition> startedAt = new ConcurrentHashMap<>();
    private final PositionJson json = new PositionJson();

    public RedisPositionStore(CentralRedis redis, KeySpace keys, String nodeId) {
        this.redis = redis;
        this.keys = keys;
        this.nodeId = nodeId;
    }

    /**
     * A position set in a transaction, with what it replaced, to put back if the transaction must be undone: the
     * transaction's {@code GET} and {@code SET} of the key, sent on the connection by {@link #commitIn}.
     */
    public static final class Commit {
        private final String key;
        private String previous;

        private Commit(String key) {
            this.key = key;
        }

        /** After EXEC: the reply to the transaction's GET, the position before it. */
        public void replaced(Object getReply) {
            previous = getReply == null ? null : new String((byte[]) getReply, StandardCharsets.UTF_8);
        }

        /** After EXEC: true if there was no position before (the first batch, or Redis lost its data). */
        public boolean replacedNone() {
            return previous == null;
        }

        /** After EXEC: puts the position from before the transaction back. */
        public void undo(Jedis jedis) {
            if (previous == null) {
                jedis.del(key);
            } else {
                jedis.set(key, previous);
            }
        }
    }

    @Override
    public Optional<FilePosition> load(String path) {
        Optional<FilePosition> stored = redis.call(jedis -> read(jedis, path));
        stored.ifPresent(position -> startedAt.put(path, position));
        return stored;
    }

    /** Where reading of {@code path} last started: what a writer that has committed nothing yet stands on. */
    public Optional<FilePosition> startedAt(String path) {
        return Optional.ofNullable(startedAt.get(path));
    }

    @Override
    public void save(FilePosition start) {
        redis.call(jedis -> jedis.set(key(start.path()), json.encode(start)));
        startedAt.put(start.path(), start);
    }

    /**
     * Sends {@code GET key; SET key position} on a connection inside MULTI, unflushed: the two steps of the
     * caller's transaction, reading first the position they replace. Two replies (QUEUED) follow, then two in EXEC's.
     */
    public Commit commitIn(Connection transaction, FilePosition position) {
        String key = key(position.path());
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        transaction.sendCommand(Protocol.Command.GET, keyBytes);
        byte[] value = json.encode(position).getBytes(StandardCharsets.UTF_8);
        transaction.sendCommand(Protocol.Command.SET, keyBytes, value);
        return new Commit(key);
    }

    /** Reads the position on a connection the caller already holds. */
    public Optional<FilePosition> read(Jedis jedis, String path) {
        String stored = jedis.get(key(path));
        if (stored == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(PositionJson.decode(stored));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("Stored position {} is unreadable ({}); treating {} as never read. "
                    + "Delete the key to silence this warning.", key(path), e.getMessage(), path);
            return Optional.empty();
        }
    }

    public String key(String path) {
        return keys.prefix() + name(path);
    }

    private String name(String path) {
        return "position:" + nodeId + ":" + path;
    }
}
