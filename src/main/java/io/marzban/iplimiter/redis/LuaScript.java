package io.marzban.iplimiter.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/** A Lua script from the jar, run by its SHA so its text crosses the network once per Redis start. */
public final class LuaScript {

    private final String text;
    private String sha;

    /** @param resource its path in the jar, e.g. {@code /limiter/consume.lua} */
    public LuaScript(String resource) {
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the jar");
            }
            this.text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs it in one round trip, or two when Redis does not know it yet; callers hold the connection. */
    public synchronized Object run(Jedis jedis, List<String> keys, List<String> args) {
        if (sha != null) {
            try {
                return jedis.evalsha(sha, keys, args);
            } catch (JedisNoScriptException e) {
                // Redis restarted or its script cache was flushed: load it again below
            }
        }
        sha = jedis.scriptLoad(text);
        return jedis.evalsha(sha, keys, args);
    }
}
