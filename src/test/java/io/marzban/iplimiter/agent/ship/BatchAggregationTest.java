package io.marzban.iplimiter.agent.ship;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BatchAggregationTest {

    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final BatchAggregation aggregation = new BatchAggregation("TailPosition", "TailCaughtUp", "TailReadGeneration",
            nanos::get);

    @Test
    void beforeTheFirstBatchTheQuietSpellIsEndless() {
        assertEquals(Long.MAX_VALUE, aggregation.millisSinceLastBatch());
    }

    @Test
    void countsFromTheLastCompletedBatch() {
        aggregation.onCompletion(null);
        assertEquals(0, aggregation.millisSinceLastBatch());
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(2_999));
        assertEquals(2_999, aggregation.millisSinceLastBatch());
        aggregation.onCompletion(null);
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(10));
        assertEquals(10, aggregation.millisSinceLastBatch());
    }
}
