package io.marzban.iplimiter.limiter.panel;

import java.net.URI;

/**
 * Where the panel is and how to log in: an admin's username and password, or (PasarGuard 5.1 and later) an API
 * key instead. {@code type} null: found out from the panel (PANEL_TYPE=auto).
 */
public record PanelSettings(PanelType type, URI url, String username, String password, String apiKey) {

    /** Never the password or the key. */
    @Override
    public String toString() {
        return (type == null ? "panel" : type.label()) + " " + url
                + (apiKey == null ? " as " + username : " with an API key");
    }
}
