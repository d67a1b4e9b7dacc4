package io.marzban.iplimiter.position;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Response;
import redis.clients.jedis.Transaction;

/**
 * Positions kept in the central Redis, one key per node and file:
 * {@code marzban_ip_limiter:position:<NODE_ID>:<path>} holding a small JSON document with a format version.
 * The batch writer sets the key in the same transaction as the events it covers ({@link #commitIn}).
 */
public final class RedisPositionStore implements PositionStore {

    /** The format written; a position without a version was written before versions (the same fields). */
    static final int VERSION = 1;

    private static final Logger LOG = LoggerFactory.getLogger(RedisPositionStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CentralRedis redis;
    private final String nodeId;
    /** The JSON before the offset, for the file positions are in now: it changes only when the file does. */
    private volatile EncodedFile encodedFile;

    private record EncodedFile(String path, FileIdentity file, String jsonBeforeOffset) {
    }

    public RedisPositionStore(CentralRedis redis, String nodeId) {
        this.redis = redis;
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
        return redis.call(jedis -> read(jedis, path));
    }

    @Override
    public void save(FilePosition start) {
        redis.call(jedis -> jedis.set(key(start.path()), encode(start)));
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
        return "marzban_ip_limiter:position:" + nodeId + ":" + path;
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
