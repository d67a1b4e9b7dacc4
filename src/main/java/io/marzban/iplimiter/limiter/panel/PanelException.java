package io.marzban.iplimiter.limiter.panel;

/** A panel API call that did not succeed; {@link #kind()} says whether trying again later can help. */
public final class PanelException extends RuntimeException {

    /** Also the {@code kind} tag of the API error meter. */
    public enum Kind {
        /** no answer, or 5xx, after the retries: the decision waits for the panel to come back */
        UNREACHABLE,
        /** the admin's credentials or the API key were refused: logins pause, since panels alert on failed ones */
        LOGIN_REFUSED,
        /** the panel answered, but as no panel and version this limiter speaks: set PANEL_TYPE */
        UNSUPPORTED,
        /** 404: no such user */
        NOT_FOUND,
        /** 409: the user is already in that state (Marzneshin's disable and enable) */
        CONFLICT,
        /** any other 4xx, e.g. 422 for a status Marzban does not accept */
        REJECTED
    }

    private final Kind kind;

    PanelException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** True when the panel cannot be used now: a decision that needs it waits, rather than being dropped. */
    public boolean waits() {
        return kind == Kind.UNREACHABLE || kind == Kind.LOGIN_REFUSED || kind == Kind.UNSUPPORTED;
    }
}
