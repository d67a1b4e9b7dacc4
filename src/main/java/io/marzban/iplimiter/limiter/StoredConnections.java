package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.LuaScript;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import redis.clients.jedis.Jedis;

/**
 * Users' devices as the consume stored their connections, read a page of users per round trip
 * ({@code limiter/connections.lua}); reading forgets the connections older than asked for.
 */
final class StoredConnections {

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final DeviceGrouping grouping;
    private final LuaScript script = new LuaScript("/limiter/connections.lua");
    private final Executor reader = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "check-reader");
        thread.setDaemon(true);
        return thread;
    });

    StoredConnections(CentralRedis redis, LimiterKeys keys, DeviceGrouping grouping) {
        this.redis = redis;
        this.keys = keys;
        this.grouping = grouping;
    }

    /** Each user's devices with their connections since {@code from} (epoch seconds), in one round trip. */
    Map<String, List<Device>> devices(List<String> users, double from) {
        return redis.call(jedis -> devices(jedis, users, from));
    }

    /** {@link #devices(List, double)} on the reader thread, so that the caller can work meanwhile. */
    CompletableFuture<Map<String, List<Device>>> readAhead(List<String> users, double from) {
        if (users.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return CompletableFuture.supplyAsync(() -> devices(users, from), reader);
    }

    /** What a read ahead came to; it fails as it would have on the caller's thread (Redis unreachable, moved...). */
    static Map<String, List<Device>> await(CompletableFuture<Map<String, List<Device>>> read) {
        try {
            return read.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    private Map<String, List<Device>> devices(Jedis jedis, List<String> users, double from) {
        List<String> seenKeys = users.stream().map(keys::seen).toList();
        List<?> stored = (List<?>) script.run(jedis, seenKeys, List.of(Double.toString(from)));
        Map<String, List<Device>> devices = new HashMap<>();
        for (int i = 0; i < users.size(); i++) {
            List<?> flat = (List<?>) stored.get(i);
            Map<String, Double> seen = new HashMap<>();
            for (int j = 0; j < flat.size(); j += 2) {
                seen.put((String) flat.get(j), Double.parseDouble((String) flat.get(j + 1)));
            }
            devices.put(users.get(i), grouping.devices(seen));
        }
        return devices;
    }
}
