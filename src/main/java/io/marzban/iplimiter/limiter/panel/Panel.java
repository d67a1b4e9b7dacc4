package io.marzban.iplimiter.limiter.panel;

/**
 * What the limiter asks of a panel, one implementation per panel API (docs/LIMITER.md, "Panels"). Each call throws
 * {@link PanelException} when it does not succeed.
 */
interface Panel {

    /** Panel and version, for people: {@code PasarGuard 5.2.1}. */
    String name();

    /** A cheap authenticated call (the current admin): throws while the panel cannot be used. */
    void probe();

    PanelUser user(UserRef user);

    /** Disables the user, taking nothing else from it; the user as the panel shows it now. */
    PanelUser disable(PanelUser user);

    /**
     * Enables a user the limiter disabled, back to {@code status} (what it was: {@code active}), taking nothing else
     * from it; the user as the panel shows it now.
     */
    PanelUser restore(PanelUser user, String status);
}
