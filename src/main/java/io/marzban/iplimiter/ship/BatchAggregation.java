package io.marzban.iplimiter.ship;

import io.marzban.iplimiter.position.FilePosition;
import io.marzban.iplimiter.tail.TailConsumer;
import java.util.List;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Collects the JSON events of groups of lines into an {@link EventBatch}, keeping the position after each group's
 * last line with it. The route completes a batch once it holds BATCH_SIZE events. A group is never split (its
 * position covers all its lines), so a batch that had fewer can end up with more: at most
 * {@code 2 * BATCH_SIZE - 1}, when a full group follows a partial batch.
 *
 * <p>Completing a batch before a group that would overflow it (Camel's pre-completion) would be tidier, but it
 * puts the next group into the aggregator before the completed batch is handed to the writer, and the flush timer
 * can then complete that newer batch first: batches out of file order.
 */
public final class BatchAggregation implements AggregationStrategy {

    @Override
    public Exchange aggregate(Exchange batchSoFar, Exchange group) {
        Exchange target = batchSoFar == null ? group : batchSoFar;
        EventBatch batch = batchSoFar == null ? new EventBatch() : batchSoFar.getMessage().getBody(EventBatch.class);
        batch.add(events(group), group.getMessage().getHeader(TailConsumer.POSITION_HEADER, FilePosition.class));
        target.getMessage().setBody(batch);
        return target;
    }

    @SuppressWarnings("unchecked")
    private static List<byte[]> events(Exchange group) {
        return group.getMessage().getBody(List.class);
    }
}
