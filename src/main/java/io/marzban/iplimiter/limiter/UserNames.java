package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.redis.CentralRedis;
import java.util.Map;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

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

    /**
     * The key of the user an operator names (the page, the API, the bot): the id the events gave for that username
     * (case aside), else the name itself. Looks through all names: for a person's request, never per event.
     */
    public String keyOf(String name) {
        if (UserRef.of(name, null).id() != null) {
            return name;
        }
        return redis.call(jedis -> {
            ScanParams count = new ScanParams().count(1000);
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<Map.Entry<String, String>> page = jedis.hscan(keys.names(), cursor, count);
                for (Map.Entry<String, String> entry : page.getResult()) {
                    if (entry.getValue().equalsIgnoreCase(name)) {
                        return entry.getKey();
                    }
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            return name;
        });
    }

    void remember(String user, String username) {
        redis.call(jedis -> jedis.hset(keys.names(), user, username));
    }
}
