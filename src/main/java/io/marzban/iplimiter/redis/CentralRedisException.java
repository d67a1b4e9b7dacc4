package io.marzban.iplimiter.redis;

import io.marzban.iplimiter.config.RedisEndpoint;

/** A failed command against the central Redis, with a message that names the server but never its password. */
public final class CentralRedisException extends RuntimeException {

    CentralRedisException(RedisEndpoint endpoint, Exception cause) {
        super("central Redis " + endpoint + ": " + cause.getMessage(), null, false, false);
    }
}
