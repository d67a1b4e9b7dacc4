package io.marzban.iplimiter.limiter.marzban;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The fields of a Marzban user that the limiter decides on. {@code expire} is epoch seconds (null or 0: never);
 * {@code dataLimit} is bytes (null or 0: unlimited); the on-hold fields are as Marzban holds them.
 */
public record MarzbanUser(String username, String status, Long expire, Long dataLimit, long usedTraffic,
                          Long onHoldExpireDuration, String onHoldTimeout) {

    static MarzbanUser fromJson(JsonNode user) {
        return new MarzbanUser(user.path("username").asText(), user.path("status").asText(), number(user, "expire"),
                number(user, "data_limit"), user.path("used_traffic").asLong(0),
                number(user, "on_hold_expire_duration"), text(user, "on_hold_timeout"));
    }

    private static Long number(JsonNode user, String field) {
        JsonNode value = user.get(field);
        return value == null || value.isNull() ? null : value.asLong();
    }

    private static String text(JsonNode user, String field) {
        JsonNode value = user.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    /** Past its expiry date at {@code epochSeconds}: re-enabling would let it connect until Marzban notices. */
    public boolean expiredAt(long epochSeconds) {
        return expire != null && expire > 0 && expire <= epochSeconds;
    }

    /** Has used up its data: re-enabling would let it connect until Marzban notices. */
    public boolean dataLimitReached() {
        return dataLimit != null && dataLimit > 0 && usedTraffic >= dataLimit;
    }
}
