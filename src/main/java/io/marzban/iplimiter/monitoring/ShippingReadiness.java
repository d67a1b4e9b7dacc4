package io.marzban.iplimiter.monitoring;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.ship.BatchWriter;
import io.marzban.iplimiter.tail.TailConsumer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.camel.Route;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness of the agent as an operator means it: events can flow from the log to the central Redis. DOWN, with
 * every reason in the message, while Redis cannot be reached, the log cannot be read, or batches have failed to
 * be written for longer than {@code SHIPPING_STUCK_AFTER}. A detail {@code client_addresses} tells when Xray masks
 * the addresses it logs.
 */
public final class ShippingReadiness extends AbstractHealthCheck {

    private final CentralRedis redis;
    private final BatchWriter writer;
    private final AddressMasking masking;
    private final Duration stuckAfter;

    public ShippingReadiness(CentralRedis redis, BatchWriter writer, AddressMasking masking, Duration stuckAfter) {
        super("marzban", "shipping");
        this.redis = redis;
        this.writer = writer;
        this.masking = masking;
        this.stuckAfter = stuckAfter;
    }

    /** A process that cannot ship is still alive: restarting it would not bring Redis back. */
    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> reasons = new ArrayList<>();
        String redisProblem = redis.problem();
        if (redisProblem != null) {
            reasons.add(redisProblem);
        }
        for (Route route : getCamelContext().getRoutes()) {
            if (route.getConsumer() instanceof TailConsumer tail && tail.problem() != null) {
                reasons.add(tail.problem());
            }
        }
        Duration failing = writer.failingFor();
        if (failing.compareTo(stuckAfter) >= 0) {
            reasons.add("shipping has been stuck for " + failing.toSeconds() + " s: batches cannot be written");
        }
        builder.detail("failing_for_seconds", failing.toSeconds());
        // shipping works, so still UP; but the limiter cannot use what it ships
        String maskingProblem = masking.problem();
        if (maskingProblem != null) {
            builder.detail("client_addresses", maskingProblem);
        }
        if (reasons.isEmpty()) {
            builder.up();
        } else {
            builder.down().message(String.join("; ", reasons));
        }
    }
}
