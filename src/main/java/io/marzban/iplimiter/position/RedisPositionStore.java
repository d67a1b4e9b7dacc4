package io.marzban.iplimiter.position;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * Positions kept in the central Redis, one key per node and file:
 * {@code marzban_ip_limiter:position:<NODE_ID>:<path>} holding a small JSON document.
 * The batch writer sets the key in the same transaction as the events it covers.
 */
public final class RedisPositionStore implements PositionStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedisPositionStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CentralRedis redis;
    private final String nodeId;

    public RedisPositionStore(CentralRedis redis, String nodeId) {
        this.redis = redis;
        this.nodeId = nodeId;
    }

    @Override
    public Optional<FilePosition> load(String path) {
        return redis.call(jedis -> read(jedis, path));
    }

    @Override
    public void save(FilePosition start) {
        redis.call(jedis -> jedis.set(key(start.path()), encode(start)));
    }

    /** Reads the position on a connection the caller already holds. */
    public Optional<FilePosition> read(Jedis jedis, String path) {
        String stored = jedis.get(key(path));
        if (stored == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(stored, FilePosition.class));
        } catch (JsonProcessingException e) {
            LOG.warn("Stored position {} is unreadable ({}); treating {} as never read. "
                    + "Delete the key to silence this warning.", key(path), e.getOriginalMessage(), path);
            return Optional.empty();
        }
    }

    public String key(String path) {
        return "marzban_ip_limiter:position:" + nodeId + ":" + path;
    }

    public String encode(FilePosition position) {
        try {
            return JSON.writeValueAsString(position);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a position is plain data and always serializes", e);
        }
    }
}
