package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Marzban 0.8.4's user API (shared marzban-api.md) and its continuation PasarGuard (panels-api.md), by
 * {@link Flavor}. Marzban: /openapi.json public with title {@code MarzbanAPI}; users without an id; 404 {@code User
 * not found}; 422 for a status other than active, disabled and on_hold, and for on_hold without
 * on_hold_expire_duration; and the traps: <b>a PUT whose body leaves {@code next_plan} out deletes it</b>, a PUT
 * naming some {@code proxies} drops the others, a limited or expired user set active comes back active, an on-hold
 * user set active loses its expire. PasarGuard adds: no /openapi.json (docs off), {@code /api/system}'s version
 * from 1 up, ISO dates, {@code id}, {@code proxy_settings}/{@code group_ids}, {@code /api/user/by-id/{id}}; from
 * 5 the email is the bare id, the toggle {@code PUT /api/user/by-id/{id}/disabled} resolves the status itself on
 * enable and touches nothing else, and an API key may replace the login.
 */
public final class MarzbanStandIn extends StandInServer {

    public static final String API_KEY = "pg_key_5c0ffee0-0000-4000-8000-000000000042";

    /** One panel API of the family, with the version it tells. */
    public enum Flavor {
        MARZBAN("0.8.4"), PASARGUARD_4("4.0.2"), PASARGUARD_5("5.2.1");

        private final String version;

        Flavor(String version) {
            this.version = version;
        }
    }

    private final Flavor flavor;
    private final Map<String, ObjectNode> users = new HashMap<>();
    private final Map<Long, ObjectNode> usersById = new HashMap<>();
    private long nextId = 42;
    private int toggles;

    private MarzbanStandIn(Flavor flavor) {
        super("/api/admin/token");
        this.flavor = flavor;
    }

    public static MarzbanStandIn start() throws IOException {
        return start(Flavor.MARZBAN);
    }

    public static MarzbanStandIn start(Flavor flavor) throws IOException {
        MarzbanStandIn panel = new MarzbanStandIn(flavor);
        panel.restart();
        return panel;
    }

    @Override
    public synchronized long addUser(String username, String status, Long expire, Long dataLimit, long usedTraffic) {
        long id = nextId++;
        ObjectNode user = JSON.createObjectNode();
        user.put("id", id);
        user.put("username", username);
        user.put("status", status);
        user.put("expire", expire);
        user.put("data_limit", dataLimit);
        user.put("used_traffic", usedTraffic);
        user.put("lifetime_used_traffic", usedTraffic);
        user.put("data_limit_reset_strategy", "no_reset");
        user.putNull("on_hold_expire_duration");
        user.putNull("on_hold_timeout");
        user.putNull("next_plan");
        user.set("proxies", JSON.createObjectNode().set("vless", JSON.createObjectNode().put("id", UUID.randomUUID()
                .toString())));
        user.set("inbounds", JSON.createObjectNode().set("vless", JSON.createArrayNode().add("VLESS TCP REALITY")));
        user.putNull("note");
        user.put("admin", JSON.createObjectNode().put("username", ADMIN));
        users.put(username.toLowerCase(Locale.ROOT), user);
        usersById.put(id, user);
        return id;
    }

    @Override
    public synchronized void addOnHoldUser(String username, long duration) {
        addUser(username, "on_hold", null, null, 0);
        stored(username).put("on_hold_expire_duration", duration);
    }

    /** The administrator sells the user a renewal: a next plan, as Marzban shows it. */
    public synchronized void giveNextPlan(String username) {
        stored(username).set("next_plan", JSON.createObjectNode().put("data_limit", 50_000_000_000L)
                .put("expire", 2_592_000).put("add_remaining_traffic", false).put("fire_on_either", true));
    }

    /** How many times PasarGuard 5's toggle was called. */
    public synchronized int toggles() {
        return toggles;
    }

    @Override
    public String email(String username) {
        return flavor == Flavor.PASARGUARD_5 ? Long.toString(id(username)) : id(username) + "." + username;
    }

    @Override
    public synchronized long id(String username) {
        return stored(username).get("id").asLong();
    }

    @Override
    public synchronized String status(String username) {
        return stored(username).path("status").asText();
    }

    @Override
    public synchronized Long expire(String username) {
        JsonNode expire = stored(username).get("expire");
        return expire.isNull() ? null : expire.asLong();
    }

    @Override
    public synchronized JsonNode user(String username) {
        return stored(username).deepCopy();
    }

    @Override
    public synchronized void extendExpiry(String username, long expire) {
        stored(username).put("expire", expire);
    }

    @Override
    public synchronized void useTraffic(String username, long usedTraffic) {
        stored(username).put("used_traffic", usedTraffic);
    }

    private ObjectNode stored(String username) {
        return users.get(username.toLowerCase(Locale.ROOT));
    }

    private boolean pasarGuard() {
        return flavor != Flavor.MARZBAN;
    }

    @Override
    boolean servePublic(HttpExchange exchange, String method, String path) throws IOException {
        if (!path.equals("/openapi.json")) {
            return false;
        }
        if (pasarGuard()) {
            reply(exchange, 404, detail("Not Found")); // PasarGuard serves it only with its docs on
        } else {
            ObjectNode info = JSON.createObjectNode().put("title", "MarzbanAPI").put("version", flavor.version);
            reply(exchange, 200, JSON.createObjectNode().put("openapi", "3.1.0").set("info", info));
        }
        return true;
    }

    @Override
    boolean otherCredentials(HttpExchange exchange) {
        return flavor == Flavor.PASARGUARD_5 && API_KEY.equals(exchange.getRequestHeaders().getFirst("X-Api-Key"));
    }

    @Override
    void serve(HttpExchange exchange, String method, String path) throws IOException {
        if (path.equals("/api/admin") && method.equals("GET")) {
            reply(exchange, 200, JSON.createObjectNode().put("username", ADMIN).put("is_sudo", true));
        } else if (path.equals("/api/system") && method.equals("GET")) {
            reply(exchange, 200, JSON.createObjectNode().put("version", flavor.version).put("total_user", users.size()));
        } else if (pasarGuard() && path.startsWith("/api/user/by-id/")) {
            byId(exchange, method, segment(path, "/api/user/by-id/"));
        } else if (path.startsWith("/api/user/") && path.indexOf('/', "/api/user/".length()) < 0) {
            ObjectNode user = stored(segment(path, "/api/user/"));
            if (user == null) {
                reply(exchange, 404, detail("User not found"));
            } else if (method.equals("GET")) {
                reply(exchange, 200, shown(user));
            } else if (method.equals("PUT")) {
                modify(exchange, user);
            } else {
                reply(exchange, 405, detail("Method Not Allowed"));
            }
        } else {
            reply(exchange, 404, detail("Not Found"));
        }
    }

    private void byId(HttpExchange exchange, String method, String rest) throws IOException {
        boolean toggle = rest.endsWith("/disabled");
        ObjectNode user;
        try {
            user = usersById.get(Long.valueOf(toggle ? rest.substring(0, rest.length() - "/disabled".length()) : rest));
        } catch (NumberFormatException e) {
            reply(exchange, 422, detail("user_id: Input should be a valid integer"));
            return;
        }
        if (toggle && flavor != Flavor.PASARGUARD_5 || !method.equals(toggle ? "PUT" : "GET")) {
            reply(exchange, toggle && flavor != Flavor.PASARGUARD_5 ? 404 : 405, detail("Not Found"));
        } else if (user == null) {
            reply(exchange, 404, detail("User not found"));
        } else if (toggle) {
            toggles++;
            boolean disabled = JSON.readTree(exchange.getRequestBody()).path("disabled").asBoolean();
            String status = disabled ? "disabled" : enabledStatus(user);
            if (!status.equals(user.path("status").asText())) {
                user.put("status", status);
                changes.add(user.path("username").asText() + " " + status);
            }
            reply(exchange, 200, shown(user));
        } else {
            reply(exchange, 200, shown(user));
        }
    }

    /** PasarGuard's _resolve_enabled_user_status: what an enabled user is, from its expiry, data and on-hold fields. */
    private static String enabledStatus(ObjectNode user) {
        JsonNode expire = user.get("expire");
        if (!expire.isNull() && expire.asLong() <= Instant.now().getEpochSecond()) {
            return "expired";
        }
        long limit = user.path("data_limit").asLong(0);
        if (limit > 0 && user.path("used_traffic").asLong() >= limit) {
            return "limited";
        }
        return user.get("on_hold_expire_duration").isNull() ? "active" : "on_hold";
    }

    private void modify(HttpExchange exchange, ObjectNode user) throws IOException {
        JsonNode body = JSON.readTree(exchange.getRequestBody());
        JsonNode status = body.get("status");
        if (status != null && !Set.of("active", "disabled", "on_hold").contains(status.asText())) {
            reply(exchange, 422, JSON.createObjectNode().set("detail", JSON.createObjectNode()
                    .put("status", "Input should be 'active', 'disabled' or 'on_hold'")));
            return;
        }
        if (status != null && status.asText().equals("on_hold") && !body.hasNonNull("on_hold_expire_duration")) {
            reply(exchange, 422, detail("User cannot be on hold without a valid on_hold_expire_duration."));
            return;
        }
        if (body.path("proxies").size() > 0) {
            // crud.update_user: every proxy the body does not name is deleted
            List<String> named = new ArrayList<>();
            body.get("proxies").fieldNames().forEachRemaining(named::add);
            ((ObjectNode) user.get("proxies")).retain(named);
        }
        if (body.has("expire")) {
            long expire = body.get("expire").asLong();
            user.put("expire", expire == 0 ? null : expire);
        }
        if (status != null) {
            if (status.asText().equals("active") && user.path("status").asText().equals("on_hold")) {
                user.putNull("expire"); // the trap: an on-hold user set active has no time limit at all
            }
            // the other trap: a limited or expired user set active is active, until the review job runs
            user.put("status", status.asText());
        }
        // crud.update_user: `if modify.next_plan is not None: ... elif dbuser.next_plan is not None: db.delete(...)`
        user.set("next_plan", body.hasNonNull("next_plan") ? body.get("next_plan").deepCopy() : null);
        changes.add(user.path("username").asText() + " " + user.path("status").asText());
        reply(exchange, 200, shown(user));
    }

    /** As the panel answers: Marzban 0.8 without the id; PasarGuard with ISO dates and its own field names. */
    private ObjectNode shown(ObjectNode user) {
        ObjectNode shown = user.deepCopy();
        // changes on every response: a client must never compare it
        shown.put("subscription_url", "/sub/" + UUID.randomUUID());
        if (!pasarGuard()) {
            shown.remove("id");
            return shown;
        }
        JsonNode expire = shown.get("expire");
        if (!expire.isNull()) {
            shown.put("expire", Instant.ofEpochSecond(expire.asLong()).atOffset(ZoneOffset.UTC).toString());
        }
        shown.set("proxy_settings", shown.remove("proxies"));
        shown.remove("inbounds");
        shown.set("group_ids", JSON.createArrayNode().add(1));
        return shown;
    }
}
