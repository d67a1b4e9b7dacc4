package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.LimiterSettings.Action;
import io.marzban.iplimiter.limiter.marzban.MarzbanApi;
import io.marzban.iplimiter.limiter.marzban.MarzbanException;
import io.marzban.iplimiter.limiter.marzban.MarzbanUser;
import io.marzban.iplimiter.redis.CentralRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Transaction;

/**
 * What happens to a user who stayed over the limit for VIOLATION_GRACE: a report, and with LIMITER_ACTION=disable
 * also {@code status: disabled} in Marzban until DISABLE_FOR has passed. Only {@code active} users are disabled;
 * what they were is saved in Redis first, and their restore is scheduled there, so both survive a restart.
 * Once a violation has been handled the user is marked acted: it is not handled again until it ends.
 */
public final class Enforcement {

    private static final Logger LOG = LoggerFactory.getLogger(Enforcement.class);

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final MarzbanApi marzban;
    private final Lease lease;
    private final Action action;
    private final long disableForMillis;
    private final Clock clock;
    private final Notifications notifications;
    private final Verdicts verdicts;
    private final Counter reports;
    private final Counter disables;

    public Enforcement(CentralRedis redis, LimiterKeys keys, MarzbanApi marzban, Lease lease, Action action, long disableForMillis,
                       Clock clock, Notifications notifications, Verdicts verdicts, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.marzban = marzban;
        this.lease = lease;
        this.action = action;
        this.disableForMillis = disableForMillis;
        this.clock = clock;
        this.notifications = notifications;
        this.verdicts = verdicts;
        this.reports = Counter.builder("marzban_limiter_violations")
                .description("Users found over their limit for longer than VIOLATION_GRACE").register(meters);
        this.disables = Counter.builder("marzban_limiter_disables")
                .description("Users the limiter disabled in Marzban").register(meters);
    }

    /**
     * Handles the user's violation unless it already was handled, by this instance or another. An unreachable
     * Marzban leaves it unhandled: the next check tries again, so no decision is dropped.
     */
    public void act(String user, int limit, List<Device> devices) {
        if (acted(user)) {
            return;
        }
        lease.holding(user, () -> {
            if (acted(user)) {
                return; // another instance handled it between our look and our lease
            }
            LOG.warn("User {} is over the limit: {} devices, limit {}: {}", user, devices.size(), limit, devices);
            notifications.send("over_limit", Map.of("user", user, "limit", limit, "devices", devices.stream()
                    .map(device -> Map.of("block", device.block().toString(), "addresses", device.addresses(),
                            "nodes", device.nodes(), "last_seen", device.lastSeen()))
                    .toList()));
            verdicts.record(user, "reported", devices.size() + " devices, limit " + limit);
            if (action == Action.DISABLE) {
                try {
                    disable(user);
                } catch (MarzbanException e) {
                    if (e.kind() == MarzbanException.Kind.UNREACHABLE || e.kind() == MarzbanException.Kind.LOGIN_REFUSED) {
                        throw e;
                    }
                    LOG.warn("Cannot disable user {}: {}", user, e.getMessage());
                    verdicts.record(user, "disable_failed", e.getMessage());
                }
            }
            reports.increment();
            redis.call(jedis -> jedis.sadd(keys.acted(), user));
        });
    }

    private boolean acted(String user) {
        return redis.call(jedis -> jedis.sismember(keys.acted(), user));
    }

    private void disable(String user) {
        MarzbanUser current = marzban.user(user);
        if (!"active".equals(current.status())) {
            boolean ours = redis.call(jedis -> jedis.exists(keys.disabled(user)));
            if (!ours) {
                LOG.info("User {} is {} in Marzban, not active: left alone", user, current.status());
                verdicts.record(user, "left_alone", "it is " + current.status() + " in Marzban, not active");
            }
            return;
        }
        long now = clock.millis();
        long restoreAt = now + disableForMillis;
        Map<String, String> saved = SavedStatus.of(current, now, lease.holder()).toHash();
        // saved before the change: a crash right after the PUT must not leave a user disabled for ever
        redis.call(jedis -> {
            Transaction transaction = jedis.multi();
            transaction.hset(keys.disabled(user), saved);
            transaction.zadd(keys.restores(), restoreAt, user);
            return transaction.exec();
        });
        marzban.modify(user, Map.of("status", "disabled"));
        disables.increment();
        LOG.warn("Disabled user {} in Marzban until {}", user, Instant.ofEpochMilli(restoreAt));
        notifications.send("disabled", Map.of("user", user, "until", restoreAt / 1000.0));
        verdicts.record(user, "disabled", "until " + Instant.ofEpochMilli(restoreAt));
    }
}
