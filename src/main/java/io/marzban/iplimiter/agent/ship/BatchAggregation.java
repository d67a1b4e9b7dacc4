package io.marzban.iplimiter.agent.ship;

import io.marzban.iplimiter.agent.position.FilePosition;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Collects the JSON events of groups of lines into an {@link EventBatch}, keeping the position after each group's
 * last line with it. The route completes a batch once it holds BATCH_SIZE events. A group is never split (its
 * position covers all its lines), so a batch that had fewer can end up with more: at most
 * {@code 2 * BATCH_SIZE - 1}, when a full group follows a partial batch.
 *
 * <p>The batch carries the caught-up header of its last group: once the tailer has caught up after a burst, the
 * route writes what is left at once rather than at the next tick. The header names are the tail consumer's, handed
 * in by the wiring.
 *
 * <p>It also remembers when the last batch was completed, by size or by the flush timer: the route writes a batch at
 * once when none was completed for FLUSH_INTERVAL, so the first events after a quiet spell do not wait for the timer,
 * while partial batches still go out only about once per FLUSH_INTERVAL.
 *
 * <p>Completing a batch before a group that would overflow it (Camel's pre-completion) would be tidier, but it
 * puts the next group into the aggregator before the completed batch is handed to the writer, and the flush timer
 * can then complete that newer batch first: batches out of file order.
 */
public final class BatchAggregation implements AggregationStrategy {

    private final String positionHeader;
    private final String caughtUpHeader;
    private final String generationHeader;
    private final LongSupplier nanoTime;
    /** When the last batch was completed; 0 (no batch yet) until then. */
    private volatile long lastCompletedNanos;
    private volatile boolean completedOnce;

    /**
     * @param positionHeader the header with the position after a group's last line
     * @param caughtUpHeader the header, true on the last group of a read that began far behind
     * @param generationHeader the header with the group's read generation (it grows when the file is read again)
     */
    public BatchAggregation(String positionHeader, String caughtUpHeader, String generationHeader) {
        this(positionHeader, caughtUpHeader, generationHeader, System::nanoTime);
    }

    BatchAggregation(String positionHeader, String caughtUpHeader, String generationHeader, LongSupplier nanoTime) {
        this.positionHeader = positionHeader;
        this.caughtUpHeader = caughtUpHeader;
        this.generationHeader = generationHeader;
        this.nanoTime = nanoTime;
    }

    @Override
    public Exchange aggregate(Exchange batchSoFar, Exchange group) {
        Exchange target = batchSoFar == null ? group : batchSoFar;
        EventBatch batch = batchSoFar == null ? new EventBatch() : batchSoFar.getMessage().getBody(EventBatch.class);
        batch.add(events(group), group.getMessage().getHeader(positionHeader, FilePosition.class),
                group.getMessage().getHeader(generationHeader, 0L, Long.class));
        target.getMessage().setBody(batch);
        // the batch carries its last group's flag, for the completion rule
        target.getMessage().setHeader(caughtUpHeader, group.getMessage().getHeader(caughtUpHeader, false, Boolean.class));
        return target;
    }

    @Override
    public void onCompletion(Exchange batch) {
        lastCompletedNanos = nanoTime.getAsLong();
        completedOnce = true;
    }

    /** Milliseconds since a batch was last completed; {@link Long#MAX_VALUE} before the first. */
    public long millisSinceLastBatch() {
        return completedOnce ? TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - lastCompletedNanos) : Long.MAX_VALUE;
    }

    @SuppressWarnings("unchecked")
    private static List<byte[]> events(Exchange group) {
        return group.getMessage().getBody(List.class);
    }
}
