package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.PanelUser;
import io.marzban.iplimiter.limiter.panel.UserRef;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the limiter saved of a user just before disabling it, kept in Redis ({@link LimiterKeys#disabled}): who it
 * is in the panel, the status to restore, and the fields that tell whether an administrator changed the user
 * meanwhile.
 */
public record SavedStatus(Long userId, String username, String status, Long expire, Long onHoldExpireDuration,
                          String onHoldTimeout, long disabledAtMillis, String disabledBy) {

    /** @param ref the user as the limiter keys it: its id where the panel shows none (Marzban 0.8) */
    public static SavedStatus of(UserRef ref, PanelUser user, long nowMillis, String instance) {
        return new SavedStatus(user.id() == null ? ref.id() : user.id(), user.username(), user.status(),
                user.expire(), user.onHoldExpireDuration(), user.onHoldTimeout(), nowMillis, instance);
    }

    /** The user saved under {@code key}, as the panel named it then. */
    public UserRef user(String key) {
        return new UserRef(key, userId, username);
    }

    /** Null for an empty hash: nothing saved. */
    public static SavedStatus fromHash(Map<String, String> hash) {
        if (hash.isEmpty()) {
            return null;
        }
        return new SavedStatus(number(hash.get("user_id")), emptyAsNull(hash.get("username")), hash.get("status"),
                number(hash.get("expire")),
                number(hash.get("on_hold_expire_duration")), emptyAsNull(hash.get("on_hold_timeout")),
                Long.parseLong(hash.getOrDefault("disabled_at", "0")), hash.get("disabled_by"));
    }

    public Map<String, String> toHash() {
        Map<String, String> hash = new HashMap<>();
        hash.put("user_id", text(userId));
        hash.put("username", username);
        hash.put("status", status);
        hash.put("expire", text(expire));
        hash.put("on_hold_expire_duration", text(onHoldExpireDuration));
        hash.put("on_hold_timeout", onHoldTimeout == null ? "" : onHoldTimeout);
        hash.put("disabled_at", Long.toString(disabledAtMillis));
        hash.put("disabled_by", disabledBy);
        return hash;
    }

    /** True if the fields saved differ from the user's now: someone else changed the user. */
    public boolean changedIn(PanelUser now) {
        return !Objects.equals(expire, now.expire())
                || !Objects.equals(onHoldExpireDuration, now.onHoldExpireDuration())
                || !Objects.equals(onHoldTimeout, now.onHoldTimeout());
    }

    private static String text(Long value) {
        return value == null ? "" : value.toString();
    }

    private static Long number(String text) {
        return text == null || text.isEmpty() ? null : Long.valueOf(text);
    }

    private static String emptyAsNull(String text) {
        return text == null || text.isEmpty() ? null : text;
    }
}
