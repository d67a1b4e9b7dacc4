package io.marzban.iplimiter.limiter.panel;

import java.util.Map;

/**
 * PasarGuard 5 and later: users by id ({@code GET /api/user/by-id/{id}}; the username routes go in 6), disabled
 * and enabled with the toggle {@code PUT /api/user/by-id/{id}/disabled}, which touches nothing else and, on
 * enable, lets the panel itself pick active, on_hold, limited or expired.
 */
final class PasarGuardPanel extends Panel {

    PasarGuardPanel(PanelConnection connection, String name) {
        super(connection, name, "/api/admin");
    }

    /** By id; a user the events named only by username (from an older node) by the deprecated username route. */
    @Override
    PanelUser user(UserRef user) {
        String path = user.id() != null ? "/api/user/by-id/" + user.id()
                : "/api/user/" + PanelConnection.encode(user.username());
        return MarzbanPanel.fromJson(connection.get(path));
    }

    @Override
    PanelUser disable(PanelUser user) {
        return toggle(user, true);
    }

    @Override
    PanelUser restore(PanelUser user, String status) {
        return toggle(user, false);
    }

    private PanelUser toggle(PanelUser user, boolean disabled) {
        return MarzbanPanel.fromJson(connection.modify("PUT", "/api/user/by-id/" + user.id() + "/disabled",
                Map.of("disabled", disabled)));
    }
}
