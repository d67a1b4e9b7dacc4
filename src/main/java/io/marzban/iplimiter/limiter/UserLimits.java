package io.marzban.iplimiter.limiter;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * How many devices each user may have: IP_LIMIT, unless USER_LIMITS_FILE names the user. That file has one user a
 * line, {@code <username> <limit>} or {@code <username> exempt}; blank lines and lines starting with # are skipped.
 * Marzban's usernames are case-insensitive, and so are the names here.
 */
public final class UserLimits {

    private static final int EXEMPT = -1;

    private final int defaultLimit;
    private final Map<String, Integer> perUser;

    private UserLimits(int defaultLimit, Map<String, Integer> perUser) {
        this.defaultLimit = defaultLimit;
        this.perUser = Map.copyOf(perUser);
    }

    public static UserLimits of(int defaultLimit) {
        return new UserLimits(defaultLimit, Map.of());
    }

    /** @throws IllegalArgumentException naming the first bad line */
    public static UserLimits parse(int defaultLimit, List<String> lines) {
        Map<String, Integer> perUser = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split("\\s+");
            if (fields.length != 2) {
                throw new IllegalArgumentException("line " + (i + 1) + " '" + line + "' is not '<username> <limit>' "
                        + "or '<username> exempt'");
            }
            perUser.put(fields[0].toLowerCase(Locale.ROOT), limit(i + 1, fields[1]));
        }
        return new UserLimits(defaultLimit, perUser);
    }

    private static int limit(int lineNumber, String text) {
        if ("exempt".equalsIgnoreCase(text)) {
            return EXEMPT;
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit >= 1) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("line " + lineNumber + ": '" + text + "' is neither a limit of at least 1 "
                + "nor 'exempt'");
    }

    /** The user's limit, or empty if the user is exempt. */
    public OptionalInt limitOf(String user) {
        int limit = perUser.getOrDefault(user.toLowerCase(Locale.ROOT), defaultLimit);
        return limit == EXEMPT ? OptionalInt.empty() : OptionalInt.of(limit);
    }

    @Override
    public String toString() {
        return "limit " + defaultLimit + (perUser.isEmpty() ? "" : ", " + perUser.size() + " users with their own");
    }
}
