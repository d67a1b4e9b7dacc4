package io.marzban.iplimiter.limiter.panel;

/**
 * What the limiter asks of a panel, one subclass per panel API (docs/LIMITER.md, "Panels"). Each call throws
 * {@link PanelException} when it does not succeed.
 */
abstract class Panel {

    final PanelConnection connection;
    private final String name;
    /** Where the panel shows the current admin: the cheap authenticated call of {@link #probe()}. */
    private final String adminPath;

    Panel(PanelConnection connection, String name, String adminPath) {
        this.connection = connection;
        this.name = name;
        this.adminPath = adminPath;
    }

    /** Panel and version, for people: {@code PasarGuard 5.2.1}. */
    final String name() {
        return name;
    }

    /** Throws while the panel cannot be used. */
    final void probe() {
        connection.get(adminPath);
    }

    abstract PanelUser user(UserRef user);

    /** Disables the user, taking nothing else from it; the user as the panel shows it now. */
    abstract PanelUser disable(PanelUser user);

    /**
     * Enables a user the limiter disabled, back to {@code status} (what it was: {@code active}), taking nothing else
     * from it; the user as the panel shows it now.
     */
    abstract PanelUser restore(PanelUser user, String status);
}
