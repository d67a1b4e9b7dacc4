package io.marzban.iplimiter.agent.ship;

import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.RedisPositionStore;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * Batches a failover lost. A replica receives a batch and its position together or not at all, so a promoted
 * replica that missed the last batches (asynchronous replication) also holds the position before them. On the
 * first write over each new connection the stored position is compared with the one the writer committed last
 * (or, before its first commit, where reading started): if it is behind, the file is read again from it, and
 * batches of the older reading are not to be written.
 */
final class LostBatches {

    private static final Logger LOG = LoggerFactory.getLogger(LostBatches.class);

    private final CentralRedis redis;
    private final RedisPositionStore positions;
    /** Makes the tailer read the file again from the stored position; gives the new read generation. */
    private final LongSupplier readAgain;
    /** Batches of an older read generation than this were read past a lost position: they come again. */
    private volatile long currentGeneration;
    /** The connection over which the stored position was last found where the writer left it. */
    private long verifiedConnection;

    LostBatches(CentralRedis redis, RedisPositionStore positions, LongSupplier readAgain) {
        this.redis = redis;
        this.positions = positions;
        this.readAgain = readAgain;
    }

    /** True for a batch read before the file was read again: its lines come again in a newer one. */
    boolean isOfAnOlderReading(EventBatch batch) {
        return batch.readGeneration() < currentGeneration;
    }

    /** The stored position is where the writer left it, on the connection open now. */
    void verified() {
        verifiedConnection = redis.connectionsOpened();
    }

    /**
     * On a new connection: the position the central Redis holds if it is behind {@code committed} (the file is
     * then read again from it), else null. A position gone entirely is a Redis that lost everything: carried on
     * from, not replayed (see BatchWriter).
     */
    FilePosition behind(Jedis jedis, FilePosition committed, String path) {
        FilePosition baseline = committed != null ? committed : positions.startedAt(path).orElse(null);
        if (baseline == null || verifiedConnection == redis.connectionsOpened()) {
            return null;
        }
        Optional<FilePosition> stored = positions.read(jedis, baseline.path());
        verified();
        if (stored.isEmpty() || stored.get().equals(baseline)) {
            return null;
        }
        FilePosition held = stored.get();
        String lost = held.file().equals(baseline.file()) ? (baseline.offset() - held.offset()) + " bytes of "
                + baseline.path() : "from an earlier file than " + baseline.path();
        LOG.warn("The central Redis holds position {}, behind {} that was committed: re-reading {} lost by the "
                + "failover", held.offset(), baseline.offset(), lost);
        currentGeneration = readAgain.getAsLong();
        return held;
    }
}
