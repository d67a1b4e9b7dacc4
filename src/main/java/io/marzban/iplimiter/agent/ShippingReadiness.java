package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.agent.parse.LogZone;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.agent.ship.BatchWriter;
import java.time.Duration;
import io.marzban.iplimiter.management.Readiness;
import java.util.List;
import org.apache.camel.health.HealthCheckResultBuilder;

/**
 * Readiness of the agent as an operator means it: events can flow from the log to the central Redis. DOWN, with
 * every reason in the message, while Redis cannot be reached, or batches have failed to be written for longer than
 * {@code SHIPPING_STUCK_AFTER}; the tail consumer's own check says when the log cannot be read. A detail
 * {@code client_addresses} tells when Xray masks the addresses it logs; {@code log_timezone} the zone Xray's stamps
 * are read in, and {@code log_timezone_problem} when LOG_TIMEZONE disagrees with what live lines show.
 */
public final class ShippingReadiness extends Readiness {

    private final CentralRedis redis;
    private final BatchWriter writer;
    private final AddressMasking masking;
    private final LogZone logZone;
    private final Duration stuckAfter;

    public ShippingReadiness(CentralRedis redis, BatchWriter writer, AddressMasking masking, LogZone logZone,
                             Duration stuckAfter) {
        super("shipping");
        this.redis = redis;
        this.writer = writer;
        this.masking = masking;
        this.logZone = logZone;
        this.stuckAfter = stuckAfter;
    }

    @Override
    protected void check(List<String> reasons, HealthCheckResultBuilder builder) {
        reasons.add(redis.problem());
        Duration failing = writer.failingFor();
        if (failing.compareTo(stuckAfter) >= 0) {
            reasons.add("shipping has been stuck for " + failing.toSeconds() + " s: batches cannot be written");
        }
        builder.detail("failing_for_seconds", failing.toSeconds());
        // behind sentinels or a cluster: which server the batches go to now (the URL never shows the password)
        builder.detail("central_redis", redis.toString());
        // shipping works, so still UP; but the limiter cannot use what it ships
        String maskingProblem = masking.problem();
        if (maskingProblem != null) {
            builder.detail("client_addresses", maskingProblem);
        }
        builder.detail("log_timezone", logZone.describe());
        String zoneProblem = logZone.problem();
        if (zoneProblem != null) {
            builder.detail("log_timezone_problem", zoneProblem); // still UP: the events flow, dated wrong
        }
    }
}
