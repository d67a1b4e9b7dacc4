package io.marzban.iplimiter.agent.ship;

import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.RedisPositionStore;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Writes a batch as {@code MULTI; LPUSH queue e1..eN; GET position; SET position; [SET heartbeat EX 90]; EXEC}:
 * the events and the read position move together or not at all; the heartbeat goes with a batch every 10 s. A
 * failure throws, and Camel's redelivery calls {@link #write} again. While no batch is written,
 * {@link #beatWhileIdle} keeps the node's heartbeat alive.
 * After a failover that lost batches, {@link LostBatches} has the file read again and older batches dropped.
 */
public final class BatchWriter {

    private static final Logger LOG = LoggerFactory.getLogger(BatchWriter.class);
    private static final long QUEUE_SAMPLE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** A batch carries the heartbeat when the last one is this old: not each of the many batches a second. */
    private static final long HEARTBEAT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final CentralRedis redis;
    private final RedisPositionStore positions;
    private final Heartbeat heartbeat;
    private final byte[] queueKey;
    private final long nanosPerEvent;
    private final LostBatches lostBatches;
    /** When the rate limit lets the next batch go (System.nanoTime). */
    private long nextBatchNanos = System.nanoTime();
    /** When a batch last carried the heartbeat (System.nanoTime); 0 before the first. */
    private long heartbeatSentNanos;
    /** Set while an EXEC may have been applied without us seeing its reply (the connection broke). */
    private boolean outcomeUnknown;
    /** The position this writer committed last; null until its first batch. */
    private volatile FilePosition lastCommitted;
    /** When the writes started failing (System.nanoTime); 0 while the last one succeeded. */
    private volatile long failingSinceNanos;
    private long failedAttemptsInARow;
    private final AtomicLong eventsShipped = new AtomicLong();
    private final AtomicLong batchesWritten = new AtomicLong();
    private final AtomicLong writeErrors = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private volatile long lastShippedNanos;
    private volatile long queueLength = -1;
    private volatile long queueLengthSampledNanos;

    /**
     * @param readAgain          makes the tailer read again from the stored position; returns the read generation
     *                           of its batches
     * @param maxEventsPerSecond at most this many events a second to the centre; 0 for no limit
     */
    public BatchWriter(CentralRedis redis, RedisPositionStore positions, Heartbeat heartbeat, String queueKey,
                       LongSupplier readAgain, long maxEventsPerSecond) {
        this.lostBatches = new LostBatches(redis, positions, readAgain);
        this.redis = redis;
        this.positions = positions;
        this.heartbeat = heartbeat;
        this.queueKey = queueKey.getBytes(StandardCharsets.UTF_8);
        this.nanosPerEvent = maxEventsPerSecond == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) / maxEventsPerSecond;
    }

    public synchronized void write(EventBatch batch) throws InterruptedException {
        if (lostBatches.isOfAnOlderReading(batch)) {
            LOG.debug("Dropped {} events read before the file was read again", batch.size());
            return;
        }
        if (failingSinceNanos != 0) {
            retries.incrementAndGet();
        } else if (nanosPerEvent > 0) {
            paceFor(batch.size());
        }
        try {
            boolean written = writeOnce(batch);
            if (failingSinceNanos != 0) {
                LOG.info("Batches are written again after {} s of failures ({} failed attempts); catching up in file "
                        + "order", failingFor().toSeconds(), failedAttemptsInARow);
            }
            failingSinceNanos = 0;
            failedAttemptsInARow = 0;
            if (written) {
                eventsShipped.addAndGet(batch.size());
                batchesWritten.incrementAndGet();
                lastShippedNanos = System.nanoTime();
            }
        } catch (RuntimeException e) {
            writeErrors.incrementAndGet();
            failedAttemptsInARow++;
            if (failingSinceNanos == 0) {
                failingSinceNanos = System.nanoTime();
            }
            throw e;
        }
    }

    /**
     * Sets the heartbeat with the last committed position, unless the connection is busy (a batch being written
     * carries its own) or Redis cannot be reached (the batches' retries say so): never blocks, never throws.
     */
    public void beatWhileIdle() {
        FilePosition committed = lastCommitted;
        redis.tryCall(jedis -> jedis.set(heartbeat.key(), heartbeat.value(committed), Heartbeat.expiry()));
    }

    /** Waits, on this (the only writing) thread, until the rate limit lets {@code events} more go. */
    private void paceFor(int events) throws InterruptedException {
        long now = System.nanoTime();
        if (nextBatchNanos > now) {
            TimeUnit.NANOSECONDS.sleep(nextBatchNanos - now);
        }
        nextBatchNanos = Math.max(now, nextBatchNanos) + events * nanosPerEvent;
    }

    public long eventsShipped() {
        return eventsShipped.get();
    }

    public long batchesWritten() {
        return batchesWritten.get();
    }

    public long writeErrors() {
        return writeErrors.get();
    }

    /** Attempts made while the batch before had failed (Camel's redeliveries). */
    public long retries() {
        return retries.get();
    }

    /** Seconds since a batch was last written; NaN before the first. */
    public double secondsSinceLastShipped() {
        long last = lastShippedNanos;
        return last == 0 ? Double.NaN : (System.nanoTime() - last) / 1e9;
    }

    public FilePosition lastCommitted() {
        return lastCommitted;
    }

    /**
     * Length of the central queue: LPUSH answers it with every batch; when no batch was written for a few
     * seconds it is asked for, unless the connection is busy. -1 until known.
     */
    public long queueLength() {
        if (System.nanoTime() - queueLengthSampledNanos > QUEUE_SAMPLE_NANOS) {
            Long sampled = redis.tryCall(jedis -> jedis.llen(queueKey));
            if (sampled != null) {
                sampleQueueLength(sampled);
            }
        }
        return queueLength;
    }

    private void sampleQueueLength(long length) {
        queueLength = length;
        queueLengthSampledNanos = System.nanoTime();
    }

    /** How long batches have failed to be written, or zero while they are written. */
    public Duration failingFor() {
        long since = failingSinceNanos;
        return since == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }

    /** False if the batch was not written: it is of the reading that went past a lost position. */
    private boolean writeOnce(EventBatch batch) {
        FilePosition position = batch.position();
        return redis.call(jedis -> {
            if (outcomeUnknown && alreadyCommitted(jedis, position)) {
                LOG.info("The last batch ({} events) reached Redis before the connection broke; not writing it again",
                        batch.size());
                outcomeUnknown = false;
                lastCommitted = position;
                lostBatches.verified();
                return true;
            }
            FilePosition held = lostBatches.behind(jedis, lastCommitted, position.path());
            if (held != null) {
                lastCommitted = held;
                outcomeUnknown = false;
                return false; // this batch was read past the position Redis holds: it comes again
            }
            outcomeUnknown = true;
            try {
                commit(jedis, batch);
            } catch (JedisDataException e) {
                outcomeUnknown = false; // refused before EXEC ran anything (EXECABORT)
                throw e;
            }
            return true;
        });
    }

    /**
     * The transaction in one round trip: MULTI, the steps and EXEC are sent together and their replies read
     * together (Jedis's Transaction waits for the QUEUED replies before it sends EXEC: two round trips a batch).
     */
    private void commit(Jedis jedis, EventBatch batch) {
        FilePosition position = batch.position();
        Connection transaction = jedis.getConnection();
        transaction.sendCommand(Protocol.Command.MULTI);
        byte[][] events = batch.events();
        byte[][] lpush = new byte[events.length + 1][];
        lpush[0] = queueKey;
        System.arraycopy(events, 0, lpush, 1, events.length);
        transaction.sendCommand(Protocol.Command.LPUSH, lpush);
        RedisPositionStore.Commit commit = positions.commitIn(transaction, position);
        boolean beating = (heartbeatSentNanos == 0
                || System.nanoTime() - heartbeatSentNanos >= HEARTBEAT_EVERY_NANOS);
        if (beating) {
            transaction.sendCommand(Protocol.Command.SET, heartbeat.key(), heartbeat.value(position), "EX",
                    Integer.toString(KeySpace.HEARTBEAT_TTL_SECONDS));
        }
        transaction.sendCommand(Protocol.Command.EXEC);
        // OK for MULTI, QUEUED for each step, then EXEC's reply
        List<Object> replies = transaction.getMany(beating ? 6 : 5);
        Object executed = replies.get(replies.size() - 1);
        if (executed instanceof JedisDataException refused) {
            // EXECABORT: a step was refused, nothing ran; the refusal says why (NOPERM; MOVED or READONLY, after
            // which CentralRedis asks where the master is now), attached as Jedis's own Transaction does
            replies.stream().filter(reply -> reply != refused && reply instanceof JedisDataException)
                    .forEach(reply -> refused.addSuppressed((JedisDataException) reply));
            throw refused;
        }
        outcomeUnknown = false;
        if (beating) {
            heartbeatSentNanos = System.nanoTime();
        }
        List<?> results = (List<?>) executed;
        commit.replaced(results.get(1));
        if (results.get(0) instanceof Exception failure) {
            // LPUSH failed inside EXEC (e.g. the queue key holds another type) while SET went through:
            // put the old position back so these events are written again once the problem is fixed
            commit.undo(jedis);
            throw new IllegalStateException("LPUSH to " + new String(queueKey, StandardCharsets.UTF_8)
                    + " failed: " + failure.getMessage());
        }
        long queued = (Long) results.get(0);
        if (commit.replacedNone() && lastCommitted != null) {
            LOG.warn("The central Redis had lost the position of {} (restarted without its data?); events written "
                    + "before may be gone from the queue too. Carrying on from offset {}, not replaying the file",
                    position.path(), position.offset());
        }
        lastCommitted = position;
        lostBatches.verified();
        sampleQueueLength(queued);
        LOG.debug("Wrote {} events; {} now at offset {} (queue length {})",
                batch.size(), position.path(), position.offset(), queued);
    }

    private boolean alreadyCommitted(Jedis jedis, FilePosition position) {
        Optional<FilePosition> stored = positions.read(jedis, position.path());
        return stored.isPresent() && stored.get().equals(position);
    }
}
