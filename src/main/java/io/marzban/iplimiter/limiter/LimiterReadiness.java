package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.marzban.MarzbanApi;
import io.marzban.iplimiter.management.Readiness;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.List;
import org.apache.camel.health.HealthCheckResultBuilder;

/** Readiness of the limiter: DOWN, with every reason in the message, while Redis or Marzban cannot be used. */
public final class LimiterReadiness extends Readiness {

    private final CentralRedis redis;
    private final MarzbanApi marzban;

    public LimiterReadiness(CentralRedis redis, MarzbanApi marzban) {
        super("limiter");
        this.redis = redis;
        this.marzban = marzban;
    }

    @Override
    protected void check(List<String> reasons, HealthCheckResultBuilder builder) {
        reasons.add(redis.problem());
        // behind sentinels or a cluster: which server it works on now (the URL never shows the password)
        builder.detail("central_redis", redis.toString());
        reasons.add(marzban.problem());
    }
}
