package io.marzban.iplimiter.agent.parse;

import java.util.Locale;

/** Why a line produced no event. {@link #toString()} is the lower-case name, used as a metric tag. */
public enum SkipReason implements ParsedLine {
    /** Not an accepted connection: rejected, DNS answer, error-log line, blank or unrelated text. */
    NOT_ACCEPTED,
    /** An accepted connection that names no user (untagged users, API traffic, Xray's own DNS queries). */
    NO_EMAIL,
    /** Looks like an accepted connection, but its timestamp, source or email cannot be read. */
    MALFORMED,
    /** A user's connection whose source is no IP address: redacted, a host name, a word. */
    NOT_AN_IP,
    /**
     * A source that Xray's {@code log.maskAddress} replaced ({@code 203.0.*.*}, {@code [Masked IPv4]}). Counted as
     * {@code not_an_ip} too; kept apart so that the agent can say loudly that Xray masks addresses.
     */
    MASKED_ADDRESS("not_an_ip");

    private final String tag;

    SkipReason() {
        this.tag = name().toLowerCase(Locale.ROOT);
    }

    SkipReason(String tag) {
        this.tag = tag;
    }

    @Override
    public String toString() {
        return tag;
    }
}
