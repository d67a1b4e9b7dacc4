package io.marzban.iplimiter.limiter.panel;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * The limiter's panel: which one it is is found out at the first call that needs it (PANEL_TYPE=auto), or set;
 * until the panel answers, every call throws, so a limiter starts while its panel is away. Without a panel
 * (LIMITER_ACTION=report and no MARZBAN_URL) every call but {@link #probeIfIdle()} throws.
 */
public final class PanelClient {

    private final PanelSettings settings;
    private final PanelConnection connection;
    private volatile Panel panel;

    /** @param settings null for no panel */
    public PanelClient(PanelSettings settings, MeterRegistry meters) {
        this.settings = settings;
        this.connection = settings == null ? null : new PanelConnection(settings, meters);
    }

    /** {@code PasarGuard 5.2.1} once known, else {@code the panel}. */
    public String name() {
        Panel known = panel;
        return known == null ? "the panel" : known.name();
    }

    public PanelUser user(UserRef user) {
        return panel().user(user);
    }

    public PanelUser disable(PanelUser user) {
        return panel().disable(user);
    }

    public PanelUser restore(PanelUser user, String status) {
        return panel().restore(user, status);
    }

    /**
     * Asks the panel for the current admin if it could not be used at the last call, or answered nothing for a
     * while: so that a panel gone away shows in the health check before a decision needs it. Throws while the panel
     * cannot be used.
     */
    public void probeIfIdle() {
        if (connection != null && connection.idle()) {
            panel().probe();
        }
    }

    /** Why the panel cannot be used now, or null if the last call got through (or there is no panel). */
    public String problem() {
        return connection == null ? null : connection.problem();
    }

    private synchronized Panel panel() {
        if (connection == null) {
            throw new PanelException(PanelException.Kind.REJECTED, "no panel is set (MARZBAN_URL)");
        }
        if (panel == null) {
            panel = PanelDetection.detect(settings.type(), connection);
        }
        return panel;
    }
}
