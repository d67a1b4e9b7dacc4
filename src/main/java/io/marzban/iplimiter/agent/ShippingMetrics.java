package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.agent.ship.BatchWriter;
import io.marzban.iplimiter.agent.tail.TailStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * The agent's own meters, shown at /observe/metrics beside Camel's and the JVM's. The route counts the lines it
 * skips ({@link SkippedLines}); everything else is read from the tailer, the writer and the connection when
 * scraped, so nothing is counted twice or on the hot path.
 */
public final class ShippingMetrics {

    static final String LINES_SKIPPED = "marzban_lines_skipped";
    static final String LINES_SKIPPED_DESCRIPTION = "lines skipped, by reason";

    private ShippingMetrics() {
    }

    public static void register(MeterRegistry registry, TailStatus tails, CentralRedis redis, BatchWriter writer,
                                AddressMasking masking) {
        // the JVM's own: Camel's binder discovery needs a Jandex index this agent does not carry
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        FunctionCounter.builder("marzban_lines_read", tails, TailStatus::linesRead)
                .description("lines read from the access log").register(registry);
        // lines the tailer skips never reach the route; same name and tag keys as SkippedLines' counters
        FunctionCounter.builder(LINES_SKIPPED, tails, TailStatus::linesTooLong)
                .description(LINES_SKIPPED_DESCRIPTION).tag("reason", "too_long").register(registry);
        FunctionCounter.builder("marzban_events_shipped", writer, BatchWriter::eventsShipped)
                .description("events written to the central queue").register(registry);
        FunctionCounter.builder("marzban_batches_written", writer, BatchWriter::batchesWritten)
                .description("batches written (one transaction each)").register(registry);
        FunctionCounter.builder("marzban_write_errors", writer, BatchWriter::writeErrors)
                .description("failed batch writes").register(registry);
        FunctionCounter.builder("marzban_write_retries", writer, BatchWriter::retries)
                .description("batch writes retried after a failure").register(registry);
        Gauge.builder("marzban_xray_masks_addresses", masking, m -> m.maskedLines() > 0 ? 1 : 0)
                .description("1 once a line showed that Xray masks client addresses (log.maskAddress)")
                .register(registry);
        Gauge.builder("marzban_redis_up", redis, r -> r.problem() == null ? 1 : 0)
                .description("1 while the central Redis answers").register(registry);
        Gauge.builder("marzban_read_lag_bytes", tails, tail -> tail.bytesAfter(writer.lastCommitted()))
                .description("bytes of the access log not yet shipped").baseUnit("bytes").register(registry);
        Gauge.builder("marzban_last_shipped_age_seconds", writer, BatchWriter::secondsSinceLastShipped)
                .description("seconds since a batch was last written").register(registry);
        Gauge.builder("marzban_queue_length", writer, BatchWriter::queueLength)
                .description("length of the central queue, sampled at most every 5 s").register(registry);
    }
}
