package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.agent.parse.ParsedLines;
import io.marzban.iplimiter.agent.parse.SkipReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts the lines the route skips, by reason, in {@code marzban_lines_skipped}, and tells {@link AddressMasking}
 * of the lines whose source Xray masked.
 */
public final class SkippedLines {

    private static final SkipReason[] REASONS = SkipReason.values();

    private final Counter[] counters = new Counter[REASONS.length];
    private final AddressMasking masking;

    public SkippedLines(MeterRegistry registry, AddressMasking masking) {
        this.masking = masking;
        for (SkipReason reason : REASONS) {
            // reasons with the same tag (masked addresses are not_an_ip) get the same counter from the registry
            counters[reason.ordinal()] = Counter.builder(ShippingMetrics.LINES_SKIPPED)
                    .description(ShippingMetrics.LINES_SKIPPED_DESCRIPTION).tag("reason", reason.toString())
                    .register(registry);
        }
    }

    public void count(ParsedLines parsed) {
        for (SkipReason reason : REASONS) {
            int skipped = parsed.skipped(reason);
            if (skipped > 0) {
                counters[reason.ordinal()].increment(skipped);
            }
        }
        int masked = parsed.skipped(SkipReason.MASKED_ADDRESS);
        if (masked > 0) {
            masking.noticed(masked);
        }
    }
}
