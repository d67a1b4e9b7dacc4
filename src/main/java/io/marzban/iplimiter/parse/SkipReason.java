package io.marzban.iplimiter.parse;

import java.util.Locale;

/** Why a line produced no event. {@link #toString()} is the lower-case name, used as a metric tag. */
public enum SkipReason implements ParsedLine {
    /** Not an accepted connection: rejected, DNS answer, error-log line, blank or unrelated text. */
    NOT_ACCEPTED,
    /** An accepted connection that names no user (untagged users, API traffic, Xray's own DNS queries). */
    NO_EMAIL,
    /** Looks like an accepted connection, but its timestamp, source or email cannot be read. */
    MALFORMED;

    private final String tag = name().toLowerCase(Locale.ROOT);

    @Override
    public String toString() {
        return tag;
    }
}
