package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.redis.CentralRedis;

/**
 * The username behind each user id the limiter keys users by ({@link LimiterKeys#names()}): written by the
 * consuming script from the events that carry both, and by {@link Enforcement} from the panel for users the
 * events name by id alone (PasarGuard 5). Panels that find users by name need it, and people read it.
 */
public final class UserNames {

    private final CentralRedis redis;
    private final LimiterKeys keys;

    public UserNames(CentralRedis redis, LimiterKeys keys) {
        this.redis = redis;
        this.keys = keys;
    }

    /** The user behind a key, with its username where known. */
    public UserRef ref(String user) {
        UserRef ref = UserRef.of(user, null);
        if (ref.id() == null) {
            return ref;
        }
        return UserRef.of(user, redis.call(jedis -> jedis.hget(keys.names(), user)));
    }

    void remember(String user, String username) {
        redis.call(jedis -> jedis.hset(keys.names(), user, username));
    }
}
