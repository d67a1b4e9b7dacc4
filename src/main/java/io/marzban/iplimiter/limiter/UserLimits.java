package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.redis.CentralRedis;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many devices each user may have, from three sources, the first that names the user winning: a limit set live
 * (from the page, {@code PUT /observe/limiter/users/{name}/limit} or the Telegram bot), kept in the central Redis so
 * that every limiter instance sees it and it outlives a restart; USER_LIMITS_FILE; IP_LIMIT. Each check starts with
 * {@link #refresh()}, so a change applies from the next check on. Names are case-insensitive, as in Marzban.
 */
public final class UserLimits {

    private static final Logger LOG = LoggerFactory.getLogger(UserLimits.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A limit set live: what, by whom, when (epoch seconds). */
    public record Setting(Limit limit, String by, double at) {
    }

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final int defaultLimit;
    private final LimitFile file;
    private final Clock clock;
    private volatile Map<String, Limit> fromFile;
    private volatile Map<String, Setting> live = Map.of();

    /** @param file USER_LIMITS_FILE, or null */
    public UserLimits(CentralRedis redis, LimiterKeys keys, int defaultLimit, LimitFile file, Clock clock) {
        this.redis = redis;
        this.keys = keys;
        this.defaultLimit = defaultLimit;
        this.file = file;
        this.clock = clock;
        this.fromFile = file == null ? Map.of() : file.current();
    }

    /** Reads the live limits from Redis, and the file again if it changed. */
    public void refresh() {
        if (file != null) {
            fromFile = file.current();
        }
        Map<String, Setting> read = new HashMap<>();
        redis.call(jedis -> jedis.hgetAll(keys.limits())).forEach((user, json) -> {
            Setting setting = setting(json);
            if (setting != null) {
                read.put(user, setting);
            }
        });
        live = Map.copyOf(read);
    }

    /** The user's limit as of the last refresh, or empty if the user is exempt. */
    public OptionalInt limitOf(String user) {
        return limit(user).asOptional();
    }

    private Limit limit(String user) {
        String name = user.toLowerCase(Locale.ROOT);
        Setting setting = live.get(name);
        if (setting != null) {
            return setting.limit();
        }
        return fromFile.getOrDefault(name, new Limit(defaultLimit));
    }

    public int defaultLimit() {
        return defaultLimit;
    }

    /** The user's limit and where it comes from ({@code set}, {@code file} or {@code default}; who and when). */
    public Map<String, Object> describe(String user) {
        String name = user.toLowerCase(Locale.ROOT);
        Map<String, Object> description = new LinkedHashMap<>();
        Setting setting = live.get(name);
        Limit limit = limit(name);
        description.put("limit", limit.exempt() ? "exempt" : limit.devices());
        description.put("source", setting != null ? "set" : fromFile.containsKey(name) ? "file" : "default");
        description.put("set_by", setting == null ? null : setting.by());
        description.put("set_at", setting == null ? null : UserInspection.seconds(setting.at()));
        return description;
    }

    /** Sets the user's limit for every instance, from the next check on; logged with {@code by}. */
    public void set(String user, Limit limit, String by) {
        String name = user.toLowerCase(Locale.ROOT);
        Setting setting = new Setting(limit, by, clock.millis() / 1000.0);
        redis.call(jedis -> jedis.hset(keys.limits(), name, json(setting)));
        LOG.info("Limit of user {}: {} -> {}, set by {}", name, limit(name), limit, by);
        refresh();
    }

    /** Drops the user's live limit: USER_LIMITS_FILE's or IP_LIMIT applies again. False if none was set. */
    public boolean clear(String user, String by) {
        String name = user.toLowerCase(Locale.ROOT);
        Limit before = limit(name);
        boolean cleared = redis.call(jedis -> jedis.hdel(keys.limits(), name)) > 0;
        refresh();
        if (cleared) {
            LOG.info("Limit of user {}: {} -> {} (its default), set by {}", name, before, limit(name), by);
        }
        return cleared;
    }

    private static String json(Setting setting) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("limit", setting.limit().toString());
        fields.put("by", setting.by());
        fields.put("at", setting.at());
        try {
            return JSON.writeValueAsString(fields);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings and a number is JSON", e);
        }
    }

    /** A stored setting, or null (logged) if it was damaged: that user then has its file or default limit. */
    private static Setting setting(String json) {
        try {
            Map<?, ?> fields = JSON.readValue(json, Map.class);
            return new Setting(Limit.parse(String.valueOf(fields.get("limit"))), String.valueOf(fields.get("by")),
                    ((Number) fields.get("at")).doubleValue());
        } catch (JsonProcessingException | IllegalArgumentException | ClassCastException | NullPointerException e) {
            LOG.warn("A live limit in Redis is damaged and ignored: {}", e.getMessage());
            return null;
        }
    }

    @Override
    public String toString() {
        return "limit " + defaultLimit + (file == null ? "" : ", " + file);
    }
}
