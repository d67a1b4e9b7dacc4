package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Marzneshin 0.7's user API (panels-api.md section 4): login at {@code /api/admins/token}, the admin at
 * {@code /api/admins/current}, /openapi.json with title {@code MarzneshinAPI}, users at {@code /api/users/{username}}
 * by their lower-case name (any other case is 404), booleans instead of a status ({@code enabled},
 * {@code activated}, {@code is_active}, {@code expired}, {@code data_limit_reached}), ISO {@code expire_date}
 * without an offset, and {@code POST .../disable} and {@code .../enable} without a body that answer 409 when the
 * user already is in that state. Disabling leaves expiry and data alone; enabling sets {@code enabled} only.
 */
public final class MarzneshinStandIn extends StandInServer {

    private final Map<String, ObjectNode> users = new HashMap<>();
    private long nextId = 7;

    private MarzneshinStandIn() {
        super("/api/admins/token");
    }

    public static MarzneshinStandIn start() throws IOException {
        MarzneshinStandIn panel = new MarzneshinStandIn();
        panel.restart();
        return panel;
    }

    @Override
    public synchronized long addUser(String username, String status, Long expire, Long dataLimit, long usedTraffic) {
        long id = nextId++;
        ObjectNode user = JSON.createObjectNode();
        user.put("id", id);
        user.put("username", username.toLowerCase(Locale.ROOT));
        user.put("enabled", !status.equals("disabled"));
        user.put("activated", !status.equals("disabled"));
        user.put("expire_strategy", expire == null ? "never" : "fixed_date");
        user.put("expire_date", expire);
        user.putNull("usage_duration");
        user.putNull("activation_deadline");
        user.put("data_limit", dataLimit);
        user.put("used_traffic", usedTraffic);
        user.set("service_ids", JSON.createArrayNode().add(1));
        user.putNull("note");
        users.put(username.toLowerCase(Locale.ROOT), user);
        return id;
    }

    @Override
    public synchronized void addOnHoldUser(String username, long duration) {
        addUser(username, "active", null, null, 0);
        stored(username).put("expire_strategy", "start_on_first_use").put("usage_duration", duration);
    }

    /** marznode's identifier: {@code <id>.<username>}, the username in lower case. */
    @Override
    public String email(String username) {
        return id(username) + "." + username.toLowerCase(Locale.ROOT);
    }

    @Override
    public synchronized long id(String username) {
        return stored(username).get("id").asLong();
    }

    /** The booleans in Marzban's words. */
    @Override
    public synchronized String status(String username) {
        ObjectNode user = shown(stored(username));
        if (!user.get("enabled").asBoolean()) {
            return "disabled";
        }
        if (user.get("expired").asBoolean()) {
            return "expired";
        }
        if (user.get("data_limit_reached").asBoolean()) {
            return "limited";
        }
        return user.get("expire_strategy").asText().equals("start_on_first_use") ? "on_hold" : "active";
    }

    @Override
    public synchronized Long expire(String username) {
        JsonNode expire = stored(username).get("expire_date");
        return expire.isNull() ? null : expire.asLong();
    }

    @Override
    public synchronized JsonNode user(String username) {
        return shown(stored(username));
    }

    @Override
    public synchronized void extendExpiry(String username, long expire) {
        stored(username).put("expire_date", expire).put("expire_strategy", "fixed_date");
    }

    @Override
    public synchronized void useTraffic(String username, long usedTraffic) {
        stored(username).put("used_traffic", usedTraffic);
    }

    private ObjectNode stored(String username) {
        return users.get(username.toLowerCase(Locale.ROOT));
    }

    @Override
    boolean servePublic(HttpExchange exchange, String method, String path) throws IOException {
        if (!path.equals("/openapi.json")) {
            return false;
        }
        ObjectNode info = JSON.createObjectNode().put("title", "MarzneshinAPI").put("version", "0.7.4");
        reply(exchange, 200, JSON.createObjectNode().put("openapi", "3.1.0").set("info", info));
        return true;
    }

    @Override
    void serve(HttpExchange exchange, String method, String path) throws IOException {
        if (path.equals("/api/admins/current") && method.equals("GET")) {
            reply(exchange, 200, JSON.createObjectNode().put("username", ADMIN).put("is_sudo", true));
            return;
        }
        if (!path.startsWith("/api/users/")) {
            reply(exchange, 404, detail("Not Found"));
            return;
        }
        String[] parts = segment(path, "/api/users/").split("/");
        ObjectNode user = users.get(parts[0]); // stored in lower case: any other case is not found
        if (user == null || !user.get("username").asText().equals(parts[0])) {
            reply(exchange, 404, detail("User not found"));
        } else if (parts.length == 1 && method.equals("GET")) {
            reply(exchange, 200, shown(user));
        } else if (parts.length == 2 && method.equals("POST") && parts[1].matches("disable|enable")) {
            boolean enable = parts[1].equals("enable");
            if (user.get("enabled").asBoolean() == enable) {
                reply(exchange, 409, detail(enable ? "User is already enabled" : "User is already disabled"));
                return;
            }
            user.put("enabled", enable);
            user.put("activated", enable && shown(user).get("is_active").asBoolean());
            changes.add(user.get("username").asText() + " " + (enable ? "active" : "disabled"));
            reply(exchange, 200, shown(user));
        } else {
            reply(exchange, 405, detail("Method Not Allowed"));
        }
    }

    /** As Marzneshin answers: the derived booleans, and expire_date as an ISO datetime without an offset. */
    private static ObjectNode shown(ObjectNode user) {
        ObjectNode shown = user.deepCopy();
        JsonNode expire = user.get("expire_date");
        boolean expired = !expire.isNull() && expire.asLong() <= Instant.now().getEpochSecond();
        long limit = user.path("data_limit").asLong(0);
        boolean limitReached = limit > 0 && user.get("used_traffic").asLong() >= limit;
        shown.put("expired", expired);
        shown.put("data_limit_reached", limitReached);
        shown.put("is_active", user.get("enabled").asBoolean() && !expired && !limitReached);
        if (!expire.isNull()) {
            shown.put("expire_date", LocalDateTime.ofEpochSecond(expire.asLong(), 0, ZoneOffset.UTC).toString());
        }
        return shown;
    }
}
