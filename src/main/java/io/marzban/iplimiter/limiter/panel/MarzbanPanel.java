package io.marzban.iplimiter.limiter.panel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Marzban 0.8.x (and forks that keep its API), and PasarGuard before 5, whose user routes are Marzban's with ISO
 * dates: {@code GET} and {@code PUT /api/user/{username}}. Every PUT carries back the {@code next_plan} it read,
 * because the panel deletes the user's next plan on any PUT that leaves it out (shared marzban-api.md).
 */
final class MarzbanPanel extends Panel {

    /** PasarGuard 3.1 and later also find a user by id, for a user the events named by id alone. */
    private final boolean byId;

    MarzbanPanel(PanelConnection connection, String name, boolean byId) {
        super(connection, name, "/api/admin");
        this.byId = byId;
    }

    @Override
    PanelUser user(UserRef user) {
        if (user.username() != null) {
            return fromJson(connection.get("/api/user/" + PanelConnection.encode(user.username())));
        }
        if (byId) {
            return fromJson(connection.get("/api/user/by-id/" + user.id()));
        }
        throw connection.failed(PanelException.Kind.NOT_FOUND, name() + " finds users by name, and no event named "
                + "user " + user);
    }

    @Override
    PanelUser disable(PanelUser user) {
        return modify(user, "disabled");
    }

    /** The limiter disables only active users (an on-hold one set active would never expire): status active. */
    @Override
    PanelUser restore(PanelUser user, String status) {
        return modify(user, status);
    }

    private PanelUser modify(PanelUser user, String status) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        body.put("next_plan", user.nextPlan()); // null only when it has none: then there is nothing to delete
        return fromJson(connection.modify("PUT", "/api/user/" + PanelConnection.encode(user.username()), body));
    }

    static PanelUser fromJson(JsonNode user) {
        JsonNode nextPlan = user.get("next_plan");
        return new PanelUser(PanelFields.number(user, "id"), user.path("username").asText(),
                user.path("status").asText(), PanelFields.epochSeconds(user, "expire"),
                PanelFields.number(user, "data_limit"), user.path("used_traffic").asLong(0),
                PanelFields.number(user, "on_hold_expire_duration"), PanelFields.text(user, "on_hold_timeout"),
                nextPlan == null || nextPlan.isNull() ? null : nextPlan);
    }
}
