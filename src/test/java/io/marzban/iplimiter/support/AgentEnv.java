package io.marzban.iplimiter.support;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The environment of an agent under test: what every agent needs, and each test's own variables on top. */
public final class AgentEnv {

    private AgentEnv() {
    }

    /**
     * NODE_ID {@code node-1}, a free MANAGEMENT_PORT, the Redis and the log; then {@code pairs} (name, value, ...),
     * which may replace any of those.
     */
    public static Map<String, String> of(String redisUrl, Path log, String... pairs) {
        return with(new HashMap<>(Map.of("NODE_ID", "node-1", "MANAGEMENT_PORT", Ports.freeText(),
                "CENTRAL_REDIS_URL", redisUrl, "ACCESS_LOG_PATH", log.toString())), pairs);
    }

    /** {@code env} with {@code pairs} (name, value, ...) put in it. */
    public static Map<String, String> with(Map<String, String> env, String... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }
}
