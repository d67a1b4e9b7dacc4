package io.marzban.iplimiter.limiter.panel;

/** The panels the limiter speaks (docs/LIMITER.md, "Panels"); PANEL_TYPE names one, or {@code auto}. */
public enum PanelType {
    /** Marzban 0.8.x and its forks that keep its API (Rebecca) */
    MARZBAN("Marzban", "MarzbanAPI"),
    /** PasarGuard, Marzban's continuation: before 5 with Marzban's routes, from 5 by id and with the toggle */
    PASARGUARD("PasarGuard", "PasarGuardAPI"),
    MARZNESHIN("Marzneshin", "MarzneshinAPI");

    private final String label;
    /** The {@code info.title} of the panel's /openapi.json. */
    private final String openApiTitle;

    PanelType(String label, String openApiTitle) {
        this.label = label;
        this.openApiTitle = openApiTitle;
    }

    public String label() {
        return label;
    }

    /** The panel whose /openapi.json has this title, or null. */
    static PanelType ofOpenApiTitle(String title) {
        for (PanelType type : values()) {
            if (type.openApiTitle.equals(title)) {
                return type;
            }
        }
        return null;
    }
}
