package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.management.Answer;
import io.marzban.iplimiter.management.Reply;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.CentralRedisException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /observe/limiter/users/{user}} on the management server: what the limiter knows of one user (named
 * as the limiter keys it: the panel's user id where the node's email carries one, else the username), as JSON: its
 * devices with connections still looked at (addresses, nodes, last seen), its limit and where it comes from, and its state;
 * {@code PUT} and {@code DELETE} on {@code .../{user}/limit} go to {@link LimitChange}. It keeps no state of its
 * own: everything is read from Redis at each request.
 */
public record UserInspection(CentralRedis redis, LimiterKeys keys, UserNames names, ViolationChecker checker,
                             UserLimits limits, LimitChange limitChange, long windowMillis, Clock clock)
        implements Answer {

    static final String PATH = "/observe/limiter/users/";
    private static final String LIMIT = "/limit";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The path to serve it at: {@value #PATH} and a user name. */
    public static String path() {
        return PATH + "*";
    }

    /** The methods it answers, on the user or on its limit. */
    public static String[] methods() {
        return new String[] {"GET", "PUT", "DELETE"};
    }

    @Override
    public Reply answer(HttpExchange request) throws JsonProcessingException {
        String user = request.getRequestURI().getPath().substring(PATH.length());
        boolean limit = user.endsWith(LIMIT);
        if (limit) {
            user = user.substring(0, user.length() - LIMIT.length());
        }
        if (user.isEmpty() || user.contains("/")) {
            return Reply.empty(404); // one user name, as the path's only segment
        }
        try {
            String key = names.keyOf(user);
            if (limit) {
                return limitChange.answer(request, names.ref(key).name()); // limits name users
            }
            if (!"GET".equals(request.getRequestMethod())) {
                request.getResponseHeaders().set("Allow", "GET");
                return Reply.empty(405);
            }
            limits.refresh();
            return new Reply(200, Reply.JSON, JSON.writeValueAsBytes(describe(key)));
        } catch (CentralRedisException e) {
            return Reply.text(503, null, String.valueOf(e.getMessage()));
        }
    }

    /** The users over their limit now, longest over first, at most {@code max} of them described. */
    List<Map<String, Object>> over(int max) {
        List<Map<String, Object>> over = new ArrayList<>();
        for (String user : redis.call(jedis -> jedis.zrange(keys.over(), 0, max - 1))) {
            over.add(describe(user));
        }
        return over;
    }

    long overCount() {
        return redis.call(jedis -> jedis.zcard(keys.over()));
    }

    /** The key of the user an operator names: by its username or, where the events give one, its id. */
    String keyOf(String name) {
        return names.keyOf(name);
    }

    /** The name per-user limits know the user an operator names by. */
    String limitName(String name) {
        return names.ref(names.keyOf(name)).name();
    }

    Map<String, Object> describe(String user) {
        long now = clock.millis();
        Map<String, Object> description = new LinkedHashMap<>();
        UserRef ref = names.ref(user);
        description.put("user", user);
        description.put("user_id", ref.id());
        description.put("username", ref.username());
        Map<String, Object> limit = limits.describe(ref.name());
        description.put("limit", limit.get("limit"));
        description.put("limit_source", limit.get("source"));
        description.put("limit_set_by", limit.get("set_by"));
        description.put("limit_set_at", limit.get("set_at"));
        description.put("devices", checker.devices(user, (now - windowMillis) / 1000.0).stream()
                .map(device -> Map.of("block", device.block().toString(), "addresses", device.addresses(),
                        "nodes", device.nodes(), "last_seen", seconds(device.lastSeen())))
                .toList());
        redis.call(jedis -> {
            Double overSince = jedis.zscore(keys.over(), user);
            description.put("over_since", overSince == null ? null : seconds(overSince / 1000));
            description.put("acted", jedis.sismember(keys.acted(), user));
            Map<String, String> saved = jedis.hgetAll(keys.disabled(user));
            description.put("disabled_by_limiter", saved.isEmpty() ? null : saved);
            Double restoreAt = jedis.zscore(keys.restores(), user);
            description.put("restore_at", restoreAt == null ? null : seconds(restoreAt / 1000));
            return null;
        });
        return description;
    }

    /** Epoch seconds as a plain decimal to the millisecond ({@code 1796679605.880}), never in a double's exponent form. */
    static BigDecimal seconds(double epochSeconds) {
        return BigDecimal.valueOf(epochSeconds).setScale(3, RoundingMode.HALF_EVEN);
    }
}
