package io.marzban.iplimiter.management;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * A readiness check of /observe/health that is DOWN with every reason in its message. Not a liveness check: a
 * process waiting for Redis (or Marzban) is still alive, and restarting it would not bring them back.
 */
public abstract class Readiness extends AbstractHealthCheck {

    protected Readiness(String id) {
        super("marzban", id);
    }

    @Override
    public final boolean isLiveness() {
        return false;
    }

    @Override
    protected final void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> reasons = new ArrayList<>();
        check(reasons, builder);
        reasons.removeIf(reason -> reason == null);
        if (reasons.isEmpty()) {
            builder.up();
        } else {
            builder.down().message(String.join("; ", reasons));
        }
    }

    /** Adds to {@code reasons} why it is not ready (a null is no reason), and any details to {@code builder}. */
    protected abstract void check(List<String> reasons, HealthCheckResultBuilder builder);
}
