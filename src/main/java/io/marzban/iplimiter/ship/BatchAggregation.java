package io.marzban.iplimiter.ship;

import io.marzban.iplimiter.position.FilePosition;
import io.marzban.iplimiter.tail.TailConsumer;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/** Collects JSON events into an {@link EventBatch}, keeping each line's file position with it. */
public final class BatchAggregation implements AggregationStrategy {

    @Override
    public Exchange aggregate(Exchange batchSoFar, Exchange event) {
        Exchange target = batchSoFar == null ? event : batchSoFar;
        EventBatch batch = batchSoFar == null ? new EventBatch() : batchSoFar.getMessage().getBody(EventBatch.class);
        batch.add(event.getMessage().getBody(byte[].class),
                event.getMessage().getHeader(TailConsumer.POSITION_HEADER, FilePosition.class));
        target.getMessage().setBody(batch);
        return target;
    }
}
