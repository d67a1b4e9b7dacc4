package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.marzban.MarzbanApi;
import io.marzban.iplimiter.limiter.marzban.MarzbanException;
import io.marzban.iplimiter.limiter.marzban.MarzbanUser;
import io.marzban.iplimiter.redis.CentralRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.HashMap;
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
 * connect for some seconds before noticing (marzban-api.md).
 */
public final class Restorer {

    private static final Logger LOG = LoggerFactory.getLogger(Restorer.class);
    private static final int USERS_PER_RUN = 50;
    /** A restore still due this long after its time is failing, not merely waiting for its turn. */
    private static final long OVERDUE_MILLIS = 60_000;

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final MarzbanApi marzban;
    private final Lease lease;
    private final Clock clock;
    private final Notifications notifications;
    private final Verdicts verdicts;
    private final Counter restores;
    private final Counter kept;
    private final AtomicLong overdue = new AtomicLong();

    public Restorer(CentralRedis redis, LimiterKeys keys, MarzbanApi marzban, Lease lease, Clock clock, Notifications notifications,
                    Verdicts verdicts, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.marzban = marzban;
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

    /** Restores the users whose time has come; an unreachable Marzban leaves them scheduled. */
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
        MarzbanUser current;
        try {
            current = marzban.user(user);
        } catch (MarzbanException e) {
            if (e.kind() != MarzbanException.Kind.NOT_FOUND) {
                throw e;
            }
            LOG.warn("Not restoring user {}: Marzban does not know it any more ({})", user, e.getMessage());
            forget(user);
            kept.increment();
            verdicts.record(user, "restore_skipped", "Marzban does not know it any more");
            return;
        }
        String reason = reasonToKeep(saved, current, now / 1000);
        if (reason != null) {
            LOG.warn("Not restoring user {} to {}: {}", user, saved.status(), reason);
            notifications.send("restore_skipped", Map.of("user", user, "reason", reason));
            verdicts.record(user, "restore_skipped", reason);
            forget(user);
            kept.increment();
            return;
        }
        MarzbanUser restored = marzban.modify(user, Map.of("status", saved.status()));
        if (!Objects.equals(restored.expire(), saved.expire())) {
            // Marzban drops expire when an on-hold user is set active: put back exactly what was saved
            Map<String, Object> expire = new HashMap<>();
            expire.put("expire", saved.expire() == null ? 0 : saved.expire());
            marzban.modify(user, expire);
        }
        forget(user);
        restores.increment();
        LOG.info("Restored user {} to {}", user, saved.status());
        notifications.send("restored", Map.of("user", user, "status", saved.status()));
        verdicts.record(user, "restored", "to " + saved.status());
    }

    private static String reasonToKeep(SavedStatus saved, MarzbanUser current, long nowSeconds) {
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
            transaction.del(keys.seen(user), keys.nodes(user));
            return transaction.exec();
        });
    }
}
