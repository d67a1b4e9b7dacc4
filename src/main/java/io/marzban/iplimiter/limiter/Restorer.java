package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.PanelClient;
import io.marzban.iplimiter.limiter.panel.PanelException;
import io.marzban.iplimiter.limiter.panel.PanelUser;
import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.redis.CentralRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.params.ZAddParams;

/**
 * Gives users back what the limiter took once DISABLE_FOR has passed, from the schedule in Redis. A user is
 * restored only if it is still {@code disabled} and unchanged since the limiter disabled it: an administrator's
 * change always wins. Nor is a user re-enabled whose expiry or data limit passed meanwhile: Marzban would let it
 * connect for some seconds before noticing (marzban-api.md). How it is enabled is the panel's business: a PUT that
 * carries back the next plan, PasarGuard's toggle, Marzneshin's enable.
 */
public final class Restorer {

    private static final Logger LOG = LoggerFactory.getLogger(Restorer.class);
    private static final int USERS_PER_RUN = 50;
    /** A restore still due this long after its time is failing, not merely waiting for its turn. */
    private static final long OVERDUE_MILLIS = 60_000;

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final PanelClient panel;
    private final Lease lease;
    private final Clock clock;
    private final Notifications notifications;
    private final Verdicts verdicts;
    private final Counter restores;
    private final Counter kept;
    private final AtomicLong overdue = new AtomicLong();

    public Restorer(CentralRedis redis, LimiterKeys keys, PanelClient panel, Lease lease, Clock clock,
                    Notifications notifications, Verdicts verdicts, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.panel = panel;
        this.lease = lease;
        this.clock = clock;
        this.notifications = notifications;
        this.verdicts = verdicts;
        this.restores = Counter.builder("marzban_limiter_restores")
                .description("Users the limiter re-enabled after DISABLE_FOR").register(meters);
        this.kept = Counter.builder("marzban_limiter_restores_skipped")
                .description("Due restores dropped: changed by an administrator, expired, or over the data limit")
                .register(meters);
        Gauge.builder("marzban_limiter_restores_overdue", overdue, AtomicLong::get)
                .description("Users whose restore has been due for more than a minute: restores are failing")
                .register(meters);
    }

    /** Restores the users whose time has come; a panel that cannot be used leaves them scheduled. */
    public int restoreDue() {
        long now = clock.millis();
        overdue.set(redis.call(jedis -> jedis.zcount(keys.restores(), 0, now - OVERDUE_MILLIS)));
        List<String> due = redis.call(jedis -> jedis.zrangeByScore(keys.restores(), 0, now, 0, USERS_PER_RUN));
        for (String user : due) {
            lease.holding(user, () -> restore(user, now));
        }
        return due.size();
    }

    /**
     * Restores the user now rather than when DISABLE_FOR has passed (an operator's command), with the same care as
     * a due restore. False if the limiter has not disabled the user: nothing to give back.
     */
    public boolean restoreNow(String user) {
        long now = clock.millis();
        boolean scheduled = redis.call(jedis -> {
            // XX: only a restore already scheduled is brought forward
            jedis.zadd(keys.restores(), now, user, ZAddParams.zAddParams().xx());
            return jedis.zscore(keys.restores(), user) != null;
        });
        if (scheduled) {
            lease.holding(user, () -> restore(user, now));
        }
        return scheduled;
    }

    private void restore(String user, long now) {
        Double restoreAt = redis.call(jedis -> jedis.zscore(keys.restores(), user));
        if (restoreAt == null || restoreAt > now) {
            return; // another instance restored it, or disabled it again, since we listed it
        }
        SavedStatus saved = SavedStatus.fromHash(redis.call(jedis -> jedis.hgetAll(keys.disabled(user))));
        if (saved == null) {
            forget(user); // a schedule without its record: nothing to give back
            return;
        }
        UserRef ref = saved.user(user);
        PanelUser current;
        try {
            current = panel.user(ref);
        } catch (PanelException e) {
            if (e.kind() != PanelException.Kind.NOT_FOUND) {
                throw e;
            }
            LOG.warn("Not restoring user {}: {} does not know it any more ({})", ref, panel.name(), e.getMessage());
            forget(user);
            kept.increment();
            verdicts.record(user, "restore_skipped", panel.name() + " does not know it any more");
            return;
        }
        Map<String, Object> fields = Enforcement.fields(ref);
        String reason = reasonToKeep(saved, current, now / 1000);
        if (reason != null) {
            LOG.warn("Not restoring user {} to {}: {}", ref, saved.status(), reason);
            fields.put("reason", reason);
            notifications.send("restore_skipped", fields);
            verdicts.record(user, "restore_skipped", reason);
            forget(user);
            kept.increment();
            return;
        }
        panel.restore(current, saved.status());
        forget(user);
        restores.increment();
        LOG.info("Restored user {} to {} in {}", ref, saved.status(), panel.name());
        fields.put("status", saved.status());
        notifications.send("restored", fields);
        verdicts.record(user, "restored", "to " + saved.status());
    }

    private static String reasonToKeep(SavedStatus saved, PanelUser current, long nowSeconds) {
        if (!"disabled".equals(current.status())) {
            return "its status is " + current.status() + " now: an administrator changed it meanwhile";
        }
        if (saved.changedIn(current)) {
            return "its expiry or on-hold settings were changed meanwhile, so an administrator holds it now";
        }
        if (current.expiredAt(nowSeconds)) {
            return "it expired while disabled; left disabled";
        }
        if (current.dataLimitReached()) {
            return "it used up its data limit while disabled; left disabled";
        }
        return null;
    }

    /**
     * The user's record and schedule go, and so do its violation and the connections it was judged on: a new one
     * starts with a full grace.
     */
    private void forget(String user) {
        redis.call(jedis -> {
            Transaction transaction = jedis.multi();
            transaction.del(keys.disabled(user));
            transaction.zrem(keys.restores(), user);
            transaction.zrem(keys.over(), user);
            transaction.srem(keys.acted(), user);
            transaction.del(keys.seen(user));
            return transaction.exec();
        });
    }
}
