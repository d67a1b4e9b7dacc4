package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.DevicesAtOnce.Crowd;
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
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.resps.Tuple;

/**
 * Finds, for each recently seen user, the latest stretch with more of its devices online at once than its limit
 * ({@link DevicesAtOnce}), and keeps in Redis since when it lasts. A stretch that lasted VIOLATION_GRACE goes to
 * {@link Enforcement}; once no stretch may still be going on, the violation ends. Each decision is a function of
 * the user's stored connections and the time: checks that a restart or another instance repeats change nothing.
 */
public final class ViolationChecker {

    private static final Logger LOG = LoggerFactory.getLogger(ViolationChecker.class);
    /**
     * Drops a user's connections older than ARGV[1] from both its keys at once, so that a connection counted
     * meanwhile is never lost, and the node names of an active user do not pile up.
     */
    private static final String FORGET_OLD_CONNECTIONS = """
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
    private final DevicesAtOnce atOnce;
    private final UserLimits limits;
    private final Enforcement enforcement;
    private final long keptMillis;
    private final long graceMillis;
    private final Clock clock;
    private final Notifications notifications;
    private final AtomicInteger tracked = new AtomicInteger();
    private final AtomicInteger overLimit = new AtomicInteger();
    private final Counter checks;
    /** Only the check thread touches it. */
    private boolean panelAway;

    /** @param keptMillis how far back connections are looked at (and kept): see {@link Limiter} */
    public ViolationChecker(CentralRedis redis, LimiterKeys keys, PanelClient panel, UserNames names,
                            DeviceGrouping grouping, DevicesAtOnce atOnce, UserLimits limits, Enforcement enforcement,
                            long keptMillis,
                            long graceMillis, Clock clock, Notifications notifications, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.panel = panel;
        this.names = names;
        this.grouping = grouping;
        this.atOnce = atOnce;
        this.limits = limits;
        this.enforcement = enforcement;
        this.keptMillis = keptMillis;
        this.graceMillis = graceMillis;
        this.clock = clock;
        this.notifications = notifications;
        Gauge.builder("marzban_limiter_users_tracked", tracked, AtomicInteger::get)
                .description("Users with connections still looked at, at the last check").register(meters);
        this.checks = Counter.builder("marzban_limiter_checks")
                .description("Checks of all recent users completed").register(meters);
        Gauge.builder("marzban_limiter_users_over_limit", overLimit, AtomicInteger::get)
                .description("Users over their limit at the last check").register(meters);
    }

    /** Checks every recently seen user, and every user still marked over; returns how many are over. */
    public int checkAll() {
        probePanel();
        limits.refresh();
        long now = clock.millis();
        double from = (now - keptMillis) / 1000.0;
        Set<String> users = redis.call(jedis -> {
            jedis.zremrangeByScore(keys.users(), "-inf", "(" + from);
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

    /** The user's devices with their connections since {@code from} (epoch seconds); older ones are forgotten. */
    List<Device> devices(String user, double from) {
        return redis.call(jedis -> {
            jedis.eval(FORGET_OLD_CONNECTIONS, List.of(keys.seen(user), keys.nodes(user)),
                    List.of(Double.toString(from)));
            Map<String, Double> seen = new HashMap<>();
            for (Tuple connection : jedis.zrangeByScoreWithScores(keys.seen(user), from, Double.POSITIVE_INFINITY)) {
                seen.put(connection.getElement(), connection.getScore());
            }
            return grouping.devices(seen, jedis.hgetAll(keys.nodes(user)));
        });
    }

    private boolean check(String user, long now, double from) {
        UserRef ref = names.ref(user); // per-user limits and people name users, the checker keys them
        OptionalInt limit = limits.limitOf(ref.name());
        Optional<Crowd> crowd = limit.isPresent()
                ? atOnce.current(devices(user, from), limit.getAsInt(), now / 1000.0) : Optional.empty();
        if (crowd.isEmpty()) {
            long ended = redis.call(jedis -> {
                jedis.srem(keys.acted(), user);
                return jedis.zrem(keys.over(), user);
            });
            if (ended > 0) {
                LOG.info("User {} is within the limit again", ref);
            }
            return false;
        }
        Crowd over = crowd.get();
        long since = Math.round(over.start() * 1000);
        // the stretch's start is a function of the stored connections: every instance writes the same
        long started = redis.call(jedis -> jedis.zadd(keys.over(), since, user));
        if (over.seconds() * 1000 >= graceMillis) {
            enforcement.act(ref, limit.getAsInt(), over.devices());
        } else if (started > 0) {
            LOG.info("User {} is over the limit ({} devices, limit {}); acting if it lasts {} ms: {}", ref,
                    over.devices().size(), limit.getAsInt(), graceMillis, over.devices());
        }
        return true;
    }
}
