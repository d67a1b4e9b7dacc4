package io.marzban.iplimiter.limiter;

import static io.marzban.iplimiter.limiter.Events.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisClusterNodes;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The limiter on a Redis Cluster, and a limiter upgraded over the keys of the version before the hash tag. */
class LimiterHighAvailabilityTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static Map<String, String> env(String url, MarzbanStandIn marzban, String disableFor) {
        Map<String, String> env = new HashMap<>(Map.of(
                "CENTRAL_REDIS_URL", url, "MARZBAN_URL", marzban.url(),
                "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                "MANAGEMENT_PORT", Ports.freeText(), "LIMITER_ACTION", "disable", "IP_LIMIT", "2",
                "SESSION_GAP", "30", "VIOLATION_GRACE", "1", "CHECK_INTERVAL", "0.2"));
        env.put("DISABLE_FOR", disableFor);
        env.put("SESSION_LINGER", "5");
        return env;
    }

    @Test
    void onARedisClusterTheLimiterConsumesDisablesAndRestores() throws Exception {
        try (RedisClusterNodes cluster = RedisClusterNodes.start(dir);
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            marzban.addUser("maria");
            RedisServer owner = cluster.ownerOf(Events.QUEUE);
            try (RunningLimiter limiter = RunningLimiter.start(env(cluster.url(), marzban, "2"))) {
                Events.push(owner, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("maria disabled and restored", LIMIT, () -> marzban.changesOf("maria").size() >= 2);
                assertFalse(limiter.logged("CROSSSLOT"));
            }
            assertEquals(List.of("maria disabled", "maria active"), marzban.changesOf("maria").subList(0, 2));
        }
    }

}
