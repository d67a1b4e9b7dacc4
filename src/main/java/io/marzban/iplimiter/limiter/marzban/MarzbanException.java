package io.marzban.iplimiter.limiter.marzban;

/** A Marzban API call that did not succeed; {@link #kind()} says whether trying again later can help. */
public final class MarzbanException extends RuntimeException {

    /** Also the {@code kind} tag of the API error meter. */
    public enum Kind {
        /** no answer, or 5xx, after the retries: the decision waits for Marzban to come back */
        UNREACHABLE,
        /** the admin's credentials were refused: logins pause, since Marzban alerts on each failed one */
        LOGIN_REFUSED,
        /** 404 User not found */
        NOT_FOUND,
        /** any other 4xx, e.g. 422 for a status Marzban does not accept */
        REJECTED
    }

    private final Kind kind;

    MarzbanException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
