package io.marzban.iplimiter.position;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Response;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Positions kept in the central Redis, one key per node and file:
 * {@code {<QUEUE_KEY>}:position:<NODE_ID>:<path>} holding a small JSON document with a format version.
 * The batch writer sets the key in the same transaction as the events it covers ({@link #commitIn}). A position
 * stored by an older version under {@code marzban_ip_limiter:position:...} is moved to the new name when first
 * loaded, so an upgrade neither re-reads nor skips anything.
 */
public final class RedisPositionStore implements PositionStore {

    /** The format written; a position without a version was written before versions (the same fields). */
    static final int VERSION = 1;

    private static final Logger LOG = LoggerFactory.getLogger(RedisPositionStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CentralRedis redis;
    private final KeySpace keys;
    private final String nodeId;
    /** Where reading of each path started in this process (loaded or saved), until a batch commits. */
    private final Map<String, FilePosition> startedAt = new ConcurrentHashMap<>();

    /** The JSON before the offset, for the file positions are in now: it changes only when the file does. */
    private volatile EncodedFile encodedFile;

    private record EncodedFile(String path, FileIdentity file, String jsonBeforeOffset) {
    }

    public RedisPositionStore(CentralRedis redis, KeySpace keys, String nodeId) {
        this.redis = redis;
        this.keys = keys;
        this.nodeId = nodeId;
    }

    /** The stored document; {@code version} reads as 0 from a position stored before versions. */
    @JsonPropertyOrder({"version", "path", "file", "offset"})
    private record Stored(int version, String path, FileIdentity file, long offset) {
    }

    /** A position set in a transaction, with what it replaced, to put back if the transaction must be undone. */
    public static final class Commit {
        private final String key;
        private final Response<String> previous;

        private Commit(String key, Response<String> previous) {
            this.key = key;
            this.previous = previous;
        }

        /** After EXEC: true if there was no position before (the first batch, or Redis lost its data). */
        public boolean replacedNone() {
            return previous.get() == null;
        }

        /** After EXEC: puts the position from before the transaction back. */
        public void undo(Jedis jedis) {
            if (previous.get() == null) {
                jedis.del(key);
            } else {
                jedis.set(key, previous.get());
            }
        }
    }

    @Override
    public Optional<FilePosition> load(String path) {
        Optional<FilePosition> stored = redis.call(jedis -> {
            moveLegacyKey(jedis, path);
            return read(jedis, path);
        });
        stored.ifPresent(position -> startedAt.put(path, position));
        return stored;
    }

    /** Where reading of {@code path} last started: what a writer that has committed nothing yet stands on. */
    public Optional<FilePosition> startedAt(String path) {
        return Optional.ofNullable(startedAt.get(path));
    }

    /**
     * Moves a position stored under the old name to the new one, in one transaction. If this node's ACL user
     * may not use the new names, the old ones are kept (heartbeat included) and the operator told what to add.
     */
    private void moveLegacyKey(Jedis jedis, String path) {
        if (!keys.mayHoldLegacyKeys()) {
            return;
        }
        String key = key(path);
        String legacyKey = KeySpace.LEGACY_PREFIX + name(path);
        String stored;
        try {
            // GET, not EXISTS: the node's minimal ACL allows GET and SET only
            if (jedis.get(key) != null) {
                return;
            }
        } catch (JedisDataException e) {
            if (!KeySpace.refused(e)) {
                throw e;
            }
            keys.keepLegacyNames();
            LOG.warn("The central Redis refuses this node's new key names ({}); keeping the old ones. Add "
                    + "~{}position:{}:* ~{}heartbeat:{} to the node's ACL user (docs/CONFIGURATION.md)",
                    e.getMessage(), keys.taggedPrefix(), nodeId, keys.taggedPrefix(), nodeId);
            return;
        }
        try {
            stored = jedis.get(legacyKey);
        } catch (JedisDataException e) {
            if (!KeySpace.refused(e)) {
                throw e;
            }
            LOG.warn("Cannot look for a position stored by an older version under {} ({}); if this node shipped "
                    + "before, keep ~{}* in its ACL user until the agent has moved it", legacyKey, e.getMessage(),
                    KeySpace.LEGACY_PREFIX + "position:" + nodeId + ":");
            return;
        }
        if (stored != null) {
            Transaction move = jedis.multi();
            move.set(key, stored);
            move.del(legacyKey);
            move.exec();
            LOG.info("Moved the stored position of {} from {} to {} (every key now carries the queue's hash tag)",
                    path, legacyKey, key);
        }
    }

    @Override
    public void save(FilePosition start) {
        redis.call(jedis -> jedis.set(key(start.path()), encode(start)));
        startedAt.put(start.path(), start);
    }

    /** Sets {@code position} as this transaction's step, reading first the one it replaces. */
    public Commit commitIn(Transaction transaction, FilePosition position) {
        String key = key(position.path());
        Response<String> previous = transaction.get(key);
        transaction.set(key, encode(position));
        return new Commit(key, previous);
    }

    /** Reads the position on a connection the caller already holds. */
    public Optional<FilePosition> read(Jedis jedis, String path) {
        String stored = jedis.get(key(path));
        if (stored == null) {
            return Optional.empty();
        }
        try {
            Stored position = JSON.readValue(stored, Stored.class);
            if (position.version() > VERSION) {
                throw new IllegalArgumentException("version " + position.version() + " is newer than this agent's "
                        + VERSION);
            }
            return Optional.of(new FilePosition(position.path(), position.file(), position.offset()));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String reason = e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
            LOG.warn("Stored position {} is unreadable ({}); treating {} as never read. "
                    + "Delete the key to silence this warning.", key(path), reason, path);
            return Optional.empty();
        }
    }

    public String key(String path) {
        return keys.prefix() + name(path);
    }

    private String name(String path) {
        return "position:" + nodeId + ":" + path;
    }

    /** Jackson's JSON of the position; Jackson writes only the part before the offset, once per file. */
    String encode(FilePosition position) {
        EncodedFile encoded = encodedFile;
        if (encoded == null || encoded.path() != position.path() || encoded.file() != position.file()) {
            String json;
            try {
                json = JSON.writeValueAsString(new Stored(VERSION, position.path(), position.file(), 0));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a position is plain data and always serializes", e);
            }
            // "offset" is the last field: {... ,"offset":0}
            encoded = new EncodedFile(position.path(), position.file(), json.substring(0, json.length() - 2));
            encodedFile = encoded;
        }
        return encoded.jsonBeforeOffset() + position.offset() + '}';
    }
}
