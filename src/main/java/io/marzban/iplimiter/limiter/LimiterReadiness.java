package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.PanelClient;
import io.marzban.iplimiter.management.Readiness;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.List;
import org.apache.camel.health.HealthCheckResultBuilder;

/** Readiness of the limiter: DOWN, with every reason in the message, while Redis or the panel cannot be used. */
public final class LimiterReadiness extends Readiness {

    private final CentralRedis redis;
    private final PanelClient panel;

    public LimiterReadiness(CentralRedis redis, PanelClient panel) {
        super("limiter");
        this.redis = redis;
        this.panel = panel;
    }

    @Override
    protected void check(List<String> reasons, HealthCheckResultBuilder builder) {
        reasons.add(redis.problem());
        // behind sentinels or a cluster: which server it works on now (the URL never shows the password)
        builder.detail("central_redis", redis.toString());
        reasons.add(panel.problem());
    }
}
