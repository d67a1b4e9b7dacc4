package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.redis.CentralRedis;
import java.util.List;
import redis.clients.jedis.params.SetParams;

/**
 * The right to act on one user, held in Redis for a while, so that limiter instances running side by side never
 * act on the same user at once. A lease outlives the holder's crash only by {@code millis}.
 */
public final class Lease {

    /** Deletes the lease only if it is still ours: a lease that expired may be someone else's by now. */
    private static final String RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "return redis.call('DEL', KEYS[1]) end return 0";

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final String holder;
    private final long millis;

    /** @param millis longer than one action takes, Marzban's retries included */
    public Lease(CentralRedis redis, LimiterKeys keys, String holder, long millis) {
        this.redis = redis;
        this.keys = keys;
        this.holder = holder;
        this.millis = millis;
    }

    private boolean acquire(String user) {
        return "OK".equals(redis.call(jedis -> jedis.set(keys.lock(user), holder,
                SetParams.setParams().nx().px(millis))));
    }

    private void release(String user) {
        redis.call(jedis -> jedis.eval(RELEASE, List.of(keys.lock(user)), List.of(holder)));
    }

    /** Runs {@code action} holding the user's lease; false, without running it, if another instance holds it. */
    public boolean holding(String user, Runnable action) {
        if (!acquire(user)) {
            return false;
        }
        try {
            action.run();
        } finally {
            release(user);
        }
        return true;
    }

    public String holder() {
        return holder;
    }
}
