package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.LimiterSettings.Action;
import io.marzban.iplimiter.limiter.panel.PanelClient;
import io.marzban.iplimiter.limiter.panel.PanelException;
import io.marzban.iplimiter.limiter.panel.PanelUser;
import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.redis.CentralRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Transaction;

/**
 * What happens to a user who stayed over the limit for VIOLATION_GRACE: a report, and with LIMITER_ACTION=disable
 * also a disable in the panel until DISABLE_FOR has passed. Only {@code active} users are disabled; what they were
 * is saved in Redis first, and their restore is scheduled there, so both survive a restart. Once a violation has
 * been handled the user is marked acted: it is not handled again until it ends.
 */
public final class Enforcement {

    private static final Logger LOG = LoggerFactory.getLogger(Enforcement.class);

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final PanelClient panel;
    private final UserNames names;
    private final UserLimits limits;
    private final Lease lease;
    private final Action action;
    private final long disableForMillis;
    private final Clock clock;
    private final Notifications notifications;
    private final Verdicts verdicts;
    private final Counter reports;
    private final Counter disables;

    public Enforcement(CentralRedis redis, LimiterKeys keys, PanelClient panel, UserNames names, UserLimits limits,
                       Lease lease, Action action, long disableForMillis, Clock clock, Notifications notifications,
                       Verdicts verdicts, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.panel = panel;
        this.names = names;
        this.limits = limits;
        this.lease = lease;
        this.action = action;
        this.disableForMillis = disableForMillis;
        this.clock = clock;
        this.notifications = notifications;
        this.verdicts = verdicts;
        this.reports = Counter.builder("marzban_limiter_violations")
                .description("Users found over their limit for longer than VIOLATION_GRACE").register(meters);
        this.disables = Counter.builder("marzban_limiter_disables")
                .description("Users the limiter disabled in the panel").register(meters);
    }

    /**
     * Handles the user's violation unless it already was handled, by this instance or another. A panel that cannot
     * be used leaves it unhandled: the next check tries again, so no decision is dropped.
     *
     * @param stillOver the devices of the violation, read again under the lease; empty when it is over (a restore
     *                  forgot the connections it was judged on, since the check read them)
     */
    public void act(UserRef user, int limit, Supplier<Optional<List<Device>>> stillOver) {
        if (acted(user.key())) {
            return;
        }
        lease.holding(user.key(), () -> {
            if (acted(user.key())) {
                return; // another instance handled it between our look and our lease
            }
            Optional<List<Device>> confirmed = stillOver.get();
            if (confirmed.isEmpty()) {
                LOG.info("User {} is no longer over the limit on its stored connections: left alone", user);
                return;
            }
            List<Device> devices = confirmed.get();
            PanelUser current = action == Action.DISABLE ? read(user) : null;
            UserRef named = current == null ? user : named(user, current);
            OptionalInt ownLimit = limits.limitOf(named.name());
            if (!named.name().equals(user.name()) && (ownLimit.isEmpty() || devices.size() <= ownLimit.getAsInt())) {
                // the events named it by id alone, and its username has a limit of its own: the next check uses it
                LOG.info("User {} is within its own limit {}: {} devices", named, ownLimit, devices.size());
                return;
            }
            LOG.warn("User {} is over the limit: {} devices, limit {}: {}", named, devices.size(), limit, devices);
            Map<String, Object> fields = fields(named);
            fields.put("limit", limit);
            fields.put("devices", devices.stream()
                    .map(device -> Map.of("block", device.block().toString(), "addresses", device.addresses(),
                            "nodes", device.nodes(), "last_seen", device.lastSeen()))
                    .toList());
            notifications.send("over_limit", fields);
            verdicts.record(user.key(), "reported", devices.size() + " devices, limit " + limit);
            if (current != null) {
                try {
                    disable(named, current);
                } catch (PanelException e) {
                    if (e.waits()) {
                        throw e;
                    }
                    LOG.warn("Cannot disable user {}: {}", named, e.getMessage());
                    verdicts.record(user.key(), "disable_failed", e.getMessage());
                }
            }
            reports.increment();
            redis.call(jedis -> jedis.sadd(keys.acted(), user.key()));
        });
    }

    /** The notification's fields naming the user: {@code user} (the username where known) and {@code user_id}. */
    static Map<String, Object> fields(UserRef user) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("user", user.name());
        if (user.id() != null) {
            fields.put("user_id", user.id());
        }
        return fields;
    }

    private boolean acted(String user) {
        return redis.call(jedis -> jedis.sismember(keys.acted(), user));
    }

    /** The user as the panel shows it; null, after a warning, for one it will not show (unknown, say). */
    private PanelUser read(UserRef user) {
        try {
            return panel.user(user);
        } catch (PanelException e) {
            if (e.waits()) {
                throw e;
            }
            LOG.warn("Cannot disable user {}: {}", user, e.getMessage());
            return null;
        }
    }

    /** The user with the username the panel shows, remembered for users the events name by id alone. */
    private UserRef named(UserRef user, PanelUser current) {
        if (user.id() != null && !current.username().equals(user.username())) {
            names.remember(user.key(), current.username());
        }
        return new UserRef(user.key(), user.id(), current.username());
    }

    private void disable(UserRef user, PanelUser current) {
        if (!"active".equals(current.status())) {
            boolean ours = redis.call(jedis -> jedis.exists(keys.disabled(user.key())));
            if (!ours) {
                LOG.info("User {} is {} in {}, not active: left alone", user, current.status(), panel.name());
                verdicts.record(user.key(), "left_alone", "it is " + current.status() + " in " + panel.name()
                        + ", not active");
            }
            return;
        }
        long now = clock.millis();
        long restoreAt = now + disableForMillis;
        Map<String, String> saved = SavedStatus.of(user, current, now, lease.holder()).toHash();
        // saved before the change: a crash right after it must not leave a user disabled for ever
        redis.call(jedis -> {
            Transaction transaction = jedis.multi();
            transaction.hset(keys.disabled(user.key()), saved);
            transaction.zadd(keys.restores(), restoreAt, user.key());
            return transaction.exec();
        });
        try {
            panel.disable(current);
        } catch (PanelException e) {
            if (!e.waits()) {
                // the panel refused it (Marzneshin's 409: disabled meanwhile by someone else): nothing to give back
                redis.call(jedis -> {
                    Transaction transaction = jedis.multi();
                    transaction.del(keys.disabled(user.key()));
                    transaction.zrem(keys.restores(), user.key());
                    return transaction.exec();
                });
            }
            throw e;
        }
        disables.increment();
        LOG.warn("Disabled user {} in {} until {}", user, panel.name(), Instant.ofEpochMilli(restoreAt));
        Map<String, Object> fields = fields(user);
        fields.put("until", restoreAt / 1000.0);
        notifications.send("disabled", fields);
        verdicts.record(user.key(), "disabled", "until " + Instant.ofEpochMilli(restoreAt));
    }
}
