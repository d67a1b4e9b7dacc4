package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Once, before the limiter's steps run: the keys an older version kept under {@code marzban_ip_limiter:limiter:}
 * are renamed to the hash-tagged prefix, so that the saved statuses of disabled users are still restored and
 * nobody's observations or grace are forgotten. A user whose ACL allows only the old names keeps them, with one
 * warning. A cluster has no old keys (they were refused there), so there is nothing to do.
 */
public final class KeyUpgrade {

    private static final Logger LOG = LoggerFactory.getLogger(KeyUpgrade.class);

    private final CentralRedis redis;
    private final KeySpace keys;
    private final LimiterKeys limiterKeys;
    private volatile boolean done;

    public KeyUpgrade(CentralRedis redis, KeySpace keys, LimiterKeys limiterKeys) {
        this.redis = redis;
        this.keys = keys;
        this.limiterKeys = limiterKeys;
        this.done = !keys.mayHoldLegacyKeys();
    }

    /** True once the old keys are moved (or kept, or there were none): the limiter's steps may run. */
    public boolean done() {
        return done;
    }

    /** Moves the old keys unless that is done; a Redis that cannot be reached throws, to be tried again. */
    public void runOnce() {
        if (done) {
            return;
        }
        redis.call(this::renameAll);
        done = true;
    }

    private Void renameAll(Jedis jedis) {
        String target = limiterKeys.prefix();
        ScanParams pattern = new ScanParams().match(LimiterKeys.LEGACY_PREFIX + "*").count(1000);
        String cursor = ScanParams.SCAN_POINTER_START;
        long moved = 0;
        long kept = 0;
        do {
            ScanResult<String> page = jedis.scan(cursor, pattern);
            for (String legacy : page.getResult()) {
                String renamed = target + legacy.substring(LimiterKeys.LEGACY_PREFIX.length());
                try {
                    if (jedis.renamenx(legacy, renamed) == 1) {
                        moved++;
                    } else {
                        kept++; // written under the new name already (another limiter moved it, then wrote)
                    }
                } catch (JedisDataException e) {
                    if (!KeySpace.refused(e)) {
                        throw e;
                    }
                    keys.keepLegacyNames();
                    LOG.warn("The central Redis refuses the limiter's new key names ({}); keeping the old ones. Add "
                            + "~{}* to the limiter's ACL user (docs/CONFIGURATION.md)", e.getMessage(), target);
                    return null;
                }
            }
            cursor = page.getCursor();
        } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
        if (moved > 0 || kept > 0) {
            LOG.info("Moved {} limiter keys from {}* to {}* (every key now carries the queue's hash tag); {} left "
                    + "where the new name was taken", moved, LimiterKeys.LEGACY_PREFIX, target, kept);
        }
        return null;
    }
}
