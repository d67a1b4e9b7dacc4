package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.marzban.MarzbanApi;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** Readiness of the limiter: DOWN, with every reason in the message, while Redis or Marzban cannot be used. */
public final class LimiterReadiness extends AbstractHealthCheck {

    private final CentralRedis redis;
    private final MarzbanApi marzban;

    public LimiterReadiness(CentralRedis redis, MarzbanApi marzban) {
        super("marzban", "limiter");
        this.redis = redis;
        this.marzban = marzban;
    }

    /** A limiter that cannot reach Redis or Marzban is still alive: restarting it would not bring them back. */
    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> reasons = Stream.of(redis.problem(), marzban.problem()).filter(Objects::nonNull).toList();
        if (reasons.isEmpty()) {
            builder.up();
        } else {
            builder.down().message(String.join("; ", reasons));
        }
    }
}
