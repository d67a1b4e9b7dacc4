package io.marzban.iplimiter.limiter.panel;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * A user's fields as the panels write them. An expiry date: Marzban 0.8 writes epoch seconds, PasarGuard an ISO
 * datetime with its offset, Marzban's next branch and Marzneshin an ISO datetime without one (UTC).
 */
final class PanelFields {

    private PanelFields() {
    }

    /** Null for a missing or null field, and for 0 (Marzban's "never"). */
    static Long epochSeconds(JsonNode user, String field) {
        JsonNode value = user.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isNumber()) {
            return value.asLong() == 0 ? null : value.asLong();
        }
        String text = value.asText();
        try {
            return OffsetDateTime.parse(text).toEpochSecond();
        } catch (DateTimeParseException e) {
            try {
                return LocalDateTime.parse(text).toEpochSecond(ZoneOffset.UTC);
            } catch (DateTimeParseException notIso) {
                throw new PanelException(PanelException.Kind.UNSUPPORTED, "the panel's " + field + " '" + text
                        + "' is neither epoch seconds nor an ISO date");
            }
        }
    }

    static Long number(JsonNode user, String field) {
        JsonNode value = user.get(field);
        return value == null || value.isNull() ? null : value.asLong();
    }

    static String text(JsonNode user, String field) {
        JsonNode value = user.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
