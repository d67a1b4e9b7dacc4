package io.marzban.iplimiter.limiter.panel;

import com.fasterxml.jackson.databind.JsonNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds out which panel and version answers, and so which API to speak: from the {@code info} of its public
 * {@code /openapi.json} (title {@code MarzbanAPI}, {@code PasarGuardAPI} or {@code MarzneshinAPI}, and the
 * version), else from {@code GET /api/system}'s {@code version} behind the login, where PasarGuard's versions start
 * at 1 and Marzban's at 0. A panel that tells neither is taken for a Marzban fork.
 */
final class PanelDetection {

    private static final Logger LOG = LoggerFactory.getLogger(PanelDetection.class);
    /** The first PasarGuard with the toggle and users by id alone in the access log. */
    private static final int PASARGUARD_BY_ID = 5;

    private PanelDetection() {
    }

    /** @param configured PANEL_TYPE; null for auto */
    static Panel detect(PanelType configured, PanelConnection connection) {
        PanelType type = configured;
        String version = null;
        JsonNode info = connection.getPublic("/openapi.json");
        if (info != null) {
            PanelType seen = PanelType.ofOpenApiTitle(info.path("info").path("title").asText());
            type = type == null ? seen : type;
            version = seen != null && seen == type ? info.path("info").path("version").asText(null) : null;
        }
        if (type == null || type == PanelType.PASARGUARD && version == null) {
            version = systemVersion(connection);
            if (type == null && version != null) {
                type = major(version) >= 1 ? PanelType.PASARGUARD : PanelType.MARZBAN;
            }
        }
        if (type == null) {
            LOG.warn("The panel {} tells neither its name nor its version: speaking Marzban 0.8's API (set PANEL_TYPE "
                    + "if it is another panel)", connection);
            type = PanelType.MARZBAN;
        }
        String name = type.label() + (version == null ? "" : " " + version);
        Panel panel = switch (type) {
            case MARZBAN -> new MarzbanPanel(connection, name, false);
            case PASARGUARD -> major(version) >= PASARGUARD_BY_ID ? new PasarGuardPanel(connection, name)
                    : new MarzbanPanel(connection, name, atLeast(version, 3, 1));
            case MARZNESHIN -> new MarzneshinPanel(connection, name);
        };
        LOG.info("Speaking to {} at {}", name, connection);
        return panel;
    }

    /** {@code GET /api/system}'s version, or null when the panel has no such route. */
    private static String systemVersion(PanelConnection connection) {
        try {
            return connection.get("/api/system").path("version").asText(null);
        } catch (PanelException e) {
            if (e.waits()) {
                throw e;
            }
            return null;
        }
    }

    /** The major number of {@code 5.2.1} or {@code v5.2.1}; -1 when there is none. */
    static int major(String version) {
        return part(version, 0);
    }

    private static boolean atLeast(String version, int major, int minor) {
        return part(version, 0) > major || part(version, 0) == major && part(version, 1) >= minor;
    }

    private static int part(String version, int index) {
        if (version == null) {
            return -1;
        }
        String[] parts = version.replaceFirst("^[vV]", "").split("\\.");
        if (index >= parts.length) {
            return -1;
        }
        String digits = parts[index].replaceFirst("\\D.*$", "");
        return digits.isEmpty() || digits.length() > 6 ? -1 : Integer.parseInt(digits);
    }
}
