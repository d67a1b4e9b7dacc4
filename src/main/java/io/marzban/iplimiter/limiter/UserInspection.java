package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.CentralRedisException;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * {@code GET /observe/limiter/users/{username}} on the management server: what the limiter knows of one user,
 * as JSON: its devices within the window (addresses, nodes, last seen), its limit, and its state. It keeps no
 * state of its own: everything is read from Redis at each request.
 */
public record UserInspection(CentralRedis redis, LimiterKeys keys, ViolationChecker checker, UserLimits limits, long windowMillis,
                             Clock clock) {

    static final String PATH = "/observe/limiter/users/";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Adds the endpoint to the management server's router; Redis is read off the event loop. */
    public void addTo(Router router) {
        router.get(PATH + ":username").blockingHandler(this::answer);
    }

    private void answer(RoutingContext request) {
        try {
            byte[] body = JSON.writeValueAsBytes(describe(request.pathParam("username")));
            request.response().putHeader("Content-Type", "application/json")
                    .end(io.vertx.core.buffer.Buffer.buffer(body));
        } catch (CentralRedisException e) {
            request.response().setStatusCode(503).end(e.getMessage());
        } catch (JsonProcessingException e) {
            request.fail(e);
        }
    }

    Map<String, Object> describe(String user) {
        long now = clock.millis();
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("username", user);
        OptionalInt limit = limits.limitOf(user);
        description.put("limit", limit.isPresent() ? limit.getAsInt() : "exempt");
        description.put("devices", checker.devices(user, (now - windowMillis) / 1000.0).stream()
                .map(device -> Map.of("block", device.block().toString(), "addresses", device.addresses(),
                        "nodes", device.nodes(), "last_seen", device.lastSeen()))
                .toList());
        redis.call(jedis -> {
            Double overSince = jedis.zscore(keys.over(), user);
            description.put("over_since", overSince == null ? null : overSince / 1000);
            description.put("acted", jedis.sismember(keys.acted(), user));
            Map<String, String> saved = jedis.hgetAll(keys.disabled(user));
            description.put("disabled_by_limiter", saved.isEmpty() ? null : saved);
            Double restoreAt = jedis.zscore(keys.restores(), user);
            description.put("restore_at", restoreAt == null ? null : restoreAt / 1000);
            return null;
        });
        return description;
    }
}
