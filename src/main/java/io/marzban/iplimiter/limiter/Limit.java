package io.marzban.iplimiter.limiter;

import java.util.OptionalInt;

/** How many devices one user may have at once, or none counted at all (exempt). */
public record Limit(int devices) {

    public static final Limit EXEMPT = new Limit(0);

    public Limit {
        if (devices < 0) {
            throw new IllegalArgumentException("a limit is at least 1 device, or exempt");
        }
    }

    /** {@code exempt} or a whole number of at least 1, as USER_LIMITS_FILE, the API and the bot take it. */
    public static Limit parse(String text) {
        if ("exempt".equalsIgnoreCase(text.trim())) {
            return EXEMPT;
        }
        try {
            int devices = Integer.parseInt(text.trim());
            if (devices >= 1 && devices <= 10_000) {
                return new Limit(devices);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("'" + text + "' is neither a limit from 1 to 10000 nor 'exempt'");
    }

    public boolean exempt() {
        return devices == 0;
    }

    /** The number of devices, or empty when exempt: what the checker compares with. */
    public OptionalInt asOptional() {
        return exempt() ? OptionalInt.empty() : OptionalInt.of(devices);
    }

    /** As it is written and shown: the number, or {@code exempt}. */
    @Override
    public String toString() {
        return exempt() ? "exempt" : Integer.toString(devices);
    }
}
