package io.marzban.iplimiter.limiter.panel;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A panel's user as the limiter decides on it, the same for every panel. {@code status} is Marzban's word
 * ({@code active}, {@code disabled}, {@code limited}, {@code expired}, {@code on_hold}); {@code expire} is epoch
 * seconds (null: never), {@code dataLimit} bytes (null or 0: unlimited); the on-hold fields are as the panel holds
 * them; {@code nextPlan} is the panel's own JSON (null: none), which a PUT must carry back.
 */
public record PanelUser(Long id, String username, String status, Long expire, Long dataLimit, long usedTraffic,
                        Long onHoldExpireDuration, String onHoldTimeout, JsonNode nextPlan) {

    /** Past its expiry date at {@code epochSeconds}: re-enabling would let it connect until the panel notices. */
    public boolean expiredAt(long epochSeconds) {
        return expire != null && expire > 0 && expire <= epochSeconds;
    }

    /** Has used up its data: re-enabling would let it connect until the panel notices. */
    public boolean dataLimitReached() {
        return dataLimit != null && dataLimit > 0 && usedTraffic >= dataLimit;
    }

    /** For people: {@code maria (id 17)}. */
    public String label() {
        return id == null ? username : username + " (id " + id + ")";
    }
}
