package io.marzban.iplimiter.limiter.panel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Marzneshin: {@code /api/admins/token}, {@code GET /api/users/{username}} (usernames are lower case), and
 * {@code POST /api/users/{username}/disable} and {@code /enable}, which answer 409 when the user already is in that
 * state. Its users carry booleans instead of a status; {@code enabled} is apart from expiry and data, so enabling
 * gives back exactly what disabling took.
 */
final class MarzneshinPanel extends Panel {

    MarzneshinPanel(PanelConnection connection, String name) {
        super(connection, name, "/api/admins/current");
        connection.loginAt("/api/admins/token");
    }

    @Override
    PanelUser user(UserRef user) {
        if (user.username() == null) {
            throw connection.failed(PanelException.Kind.NOT_FOUND, name() + " finds users by name, and no event "
                    + "named user " + user);
        }
        return fromJson(connection.get(path(user.username())));
    }

    @Override
    PanelUser disable(PanelUser user) {
        return fromJson(connection.modify("POST", path(user.username()) + "/disable", null));
    }

    @Override
    PanelUser restore(PanelUser user, String status) {
        return fromJson(connection.modify("POST", path(user.username()) + "/enable", null));
    }

    private static String path(String username) {
        return "/api/users/" + PanelConnection.encode(username.toLowerCase(Locale.ROOT));
    }

    /** The booleans as Marzban's status; a user whose time starts at its first connection is on hold. */
    static PanelUser fromJson(JsonNode user) {
        String status;
        if (!user.path("enabled").asBoolean()) {
            status = "disabled";
        } else if (user.path("expired").asBoolean()) {
            status = "expired";
        } else if (user.path("data_limit_reached").asBoolean()) {
            status = "limited";
        } else if ("start_on_first_use".equals(user.path("expire_strategy").asText())) {
            status = "on_hold";
        } else {
            status = "active";
        }
        return new PanelUser(PanelFields.number(user, "id"), user.path("username").asText(), status,
                PanelFields.epochSeconds(user, "expire_date"), PanelFields.number(user, "data_limit"),
                user.path("used_traffic").asLong(0), PanelFields.number(user, "usage_duration"),
                PanelFields.text(user, "activation_deadline"), null);
    }
}
