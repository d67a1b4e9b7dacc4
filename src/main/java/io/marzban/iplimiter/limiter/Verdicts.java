package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.CentralRedisException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The latest verdicts of every limiter instance (reported, disabled, restored, restore skipped and the like, each
 * with its reason), for the status page: a capped list in the central Redis, so it is bounded and shared. Writing
 * one never fails a decision: if Redis refuses it, it is logged and counted.
 */
public final class Verdicts {

    /** Enough for a day of a busy fleet's verdicts on the page, a few hundred KB of Redis at most. */
    static final int KEPT = 500;
    private static final Logger LOG = LoggerFactory.getLogger(Verdicts.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final Clock clock;
    private final Counter lost;

    public Verdicts(CentralRedis redis, LimiterKeys keys, Clock clock, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.clock = clock;
        this.lost = Counter.builder("marzban_limiter_verdicts_unrecorded")
                .description("Verdicts the central Redis did not take for the status page").register(meters);
    }

    /** @param verdict e.g. {@code disabled}; @param reason why, for people */
    public void record(String user, String verdict, String reason) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("at", UserInspection.seconds(clock.millis() / 1000.0));
        entry.put("user", user);
        entry.put("verdict", verdict);
        entry.put("reason", reason);
        try {
            String json = JSON.writeValueAsString(entry);
            redis.call(jedis -> {
                jedis.lpush(keys.verdicts(), json);
                return jedis.ltrim(keys.verdicts(), 0, KEPT - 1);
            });
        } catch (JsonProcessingException | CentralRedisException e) {
            lost.increment();
            LOG.warn("Verdict {} on user {} not recorded for the status page: {}", verdict, user, e.getMessage());
        }
    }

    /** The latest {@code count} verdicts, newest first. */
    public List<Map<String, Object>> latest(int count) {
        List<Map<String, Object>> latest = new ArrayList<>();
        for (String json : redis.call(jedis -> jedis.lrange(keys.verdicts(), 0, count - 1))) {
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> entry = JSON.readValue(json, Map.class);
                latest.add(entry);
            } catch (JsonProcessingException e) {
                // written only by record(); a damaged entry is left out of the page
            }
        }
        return latest;
    }
}
