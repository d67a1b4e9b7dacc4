package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import java.util.HashMap;
import java.util.Map;

/** A limiter's environment for a test: the Redis, the Marzban stand-in, a free MANAGEMENT_PORT, then more. */
final class LimiterEnv {

    private LimiterEnv() {
    }

    /** {@code pairs} (name, value, ...) may replace any of the defaults. */
    static Map<String, String> of(RedisServer redis, MarzbanStandIn marzban, String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("CENTRAL_REDIS_URL", redis.url(), "MARZBAN_URL", marzban.url(),
                "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                "MANAGEMENT_PORT", Ports.freeText()));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }
}
