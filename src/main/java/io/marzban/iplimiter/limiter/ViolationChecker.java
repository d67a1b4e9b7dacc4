package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.PanelClient;
import io.marzban.iplimiter.limiter.panel.PanelException;
import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.redis.CentralRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.params.ZAddParams;
import redis.clients.jedis.resps.Tuple;

/**
 * Counts each recently seen user's devices within ACTIVE_WINDOW and keeps, in Redis, since when a user has been
 * over its limit. A user over the limit for VIOLATION_GRACE goes to {@link Enforcement}; one back within it
 * loses its violation. Observations older than the window still update last-seen but count for nothing here.
 */
public final class ViolationChecker {

    private static final Logger LOG = LoggerFactory.getLogger(ViolationChecker.class);
    /**
     * Drops a user's addresses last seen before ARGV[1] from both its keys at once, so that an address seen again
     * meanwhile is never lost, and the node names of an active user do not pile up.
     */
    private static final String FORGET_OLD_ADDRESSES = """
            local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
            for _, member in ipairs(old) do
              redis.call('ZREM', KEYS[1], member)
              redis.call('HDEL', KEYS[2], member)
            end
            return #old""";

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final PanelClient panel;
    private final UserNames names;
    private final DeviceGrouping grouping;
    private final UserLimits limits;
    private final Enforcement enforcement;
    private final long windowMillis;
    private final long graceMillis;
    private final Clock clock;
    private final Notifications notifications;
    private final AtomicInteger tracked = new AtomicInteger();
    private final AtomicInteger overLimit = new AtomicInteger();
    private final Counter checks;
    /** Only the check thread touches it. */
    private boolean panelAway;

    public ViolationChecker(CentralRedis redis, LimiterKeys keys, PanelClient panel, UserNames names,
                            DeviceGrouping grouping, UserLimits limits, Enforcement enforcement, long windowMillis,
                            long graceMillis, Clock clock, Notifications notifications, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.panel = panel;
        this.names = names;
        this.grouping = grouping;
        this.limits = limits;
        this.enforcement = enforcement;
        this.windowMillis = windowMillis;
        this.graceMillis = graceMillis;
        this.clock = clock;
        this.notifications = notifications;
        Gauge.builder("marzban_limiter_users_tracked", tracked, AtomicInteger::get)
                .description("Users seen within ACTIVE_WINDOW at the last check").register(meters);
        this.checks = Counter.builder("marzban_limiter_checks")
                .description("Checks of all recent users completed").register(meters);
        Gauge.builder("marzban_limiter_users_over_limit", overLimit, AtomicInteger::get)
                .description("Users over their limit at the last check").register(meters);
    }

    /** Checks every user seen within the window, and every user still marked over; returns how many are over. */
    public int checkAll() {
        probePanel();
        limits.refresh();
        long now = clock.millis();
        double from = (now - windowMillis) / 1000.0;
        Set<String> users = redis.call(jedis -> {
            jedis.zremrangeByScore(keys.users(), Double.NEGATIVE_INFINITY, from);
            Set<String> recent = new LinkedHashSet<>(jedis.zrangeByScore(keys.users(), from,
                    Double.POSITIVE_INFINITY));
            recent.addAll(jedis.zrange(keys.over(), 0, -1));
            return recent;
        });
        int over = 0;
        for (String user : users) {
            if (check(user, now, from)) {
                over++;
            }
        }
        tracked.set(users.size());
        overLimit.set(over);
        checks.increment();
        return over;
    }

    /** While the panel is away no decision is taken: this throws until it answers again, and notifies once. */
    private void probePanel() {
        try {
            panel.probeIfIdle();
            panelAway = false;
        } catch (PanelException e) {
            if (!panelAway) {
                panelAway = true;
                notifications.send("panel_error", Map.of("kind", e.kind().name().toLowerCase(Locale.ROOT),
                        "message", e.getMessage()));
            }
            throw e;
        }
    }

    /** The user's devices seen since {@code from} (epoch seconds). */
    List<Device> devices(String user, double from) {
        return redis.call(jedis -> {
            jedis.eval(FORGET_OLD_ADDRESSES, List.of(keys.seen(user), keys.nodes(user)),
                    List.of(Double.toString(from)));
            Map<String, Double> lastSeen = new HashMap<>();
            for (Tuple seen : jedis.zrangeByScoreWithScores(keys.seen(user), from, Double.POSITIVE_INFINITY)) {
                lastSeen.put(seen.getElement(), seen.getScore());
            }
            return grouping.devices(lastSeen, jedis.hgetAll(keys.nodes(user)));
        });
    }

    private boolean check(String user, long now, double from) {
        UserRef ref = names.ref(user); // per-user limits and people name users, the checker keys them
        OptionalInt limit = limits.limitOf(ref.name());
        List<Device> devices = limit.isPresent() ? devices(user, from) : List.of();
        if (limit.isEmpty() || devices.size() <= limit.getAsInt()) {
            long ended = redis.call(jedis -> {
                jedis.srem(keys.acted(), user);
                return jedis.zrem(keys.over(), user);
            });
            if (ended > 0) {
                LOG.info("User {} is within the limit again: {} devices", ref, devices.size());
            }
            return false;
        }
        long since = redis.call(jedis -> {
            // NX: the first instance to see the violation sets its start, every later check keeps it
            jedis.zadd(keys.over(), now, user, ZAddParams.zAddParams().nx());
            return jedis.zscore(keys.over(), user).longValue();
        });
        if (now - since >= graceMillis) {
            enforcement.act(ref, limit.getAsInt(), devices);
        } else if (since == now) {
            LOG.info("User {} is over the limit ({} devices, limit {}); acting if it lasts {} ms: {}", ref,
                    devices.size(), limit.getAsInt(), graceMillis, devices);
        }
        return true;
    }
}
