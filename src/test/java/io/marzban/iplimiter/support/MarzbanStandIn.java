package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A stand-in for Marzban's REST API that behaves as shared/marzban-api.md describes: form-encoded login, bearer
 * tokens that can be invalidated, 401 details, 404 User not found, 422 for a status other than active, disabled and
 * on_hold (and for on_hold without on_hold_expire_duration), and the traps: a limited or expired user set active
 * comes back active, an on-hold user set active loses its expire. Tests play the administrator with {@link #admin}.
 */
public final class MarzbanStandIn implements AutoCloseable {

    public static final String ADMIN = "admin";
    public static final String PASSWORD = "s3cret+pass word";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int port;
    private final Map<String, ObjectNode> users = new HashMap<>();
    private final Set<String> tokens = new HashSet<>();
    private final List<String> changes = new ArrayList<>();
    private int logins;
    private int failedLogins;
    private HttpServer server;

    private MarzbanStandIn(int port) {
        this.port = port;
    }

    public static MarzbanStandIn start() throws IOException {
        MarzbanStandIn marzban = new MarzbanStandIn(Ports.free());
        marzban.restart();
        return marzban;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Marzban goes away: every request fails to connect until {@link #restart()}. */
    public synchronized void stop() {
        server.stop(0);
        server = null;
    }

    public synchronized void restart() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A user as Marzban shows it; {@code expire} epoch seconds or null, {@code dataLimit} bytes or null. */
    public synchronized void addUser(String username, String status, Long expire, Long dataLimit, long usedTraffic) {
        ObjectNode user = JSON.createObjectNode();
        user.put("username", username);
        user.put("status", status);
        user.putPOJO("expire", expire);
        user.putPOJO("data_limit", dataLimit);
        user.put("used_traffic", usedTraffic);
        user.put("lifetime_used_traffic", usedTraffic);
        user.put("data_limit_reset_strategy", "no_reset");
        user.putNull("on_hold_expire_duration");
        user.putNull("on_hold_timeout");
        user.putNull("note");
        user.put("admin", JSON.createObjectNode().put("username", ADMIN));
        users.put(username.toLowerCase(Locale.ROOT), user);
    }

    public void addUser(String username) {
        addUser(username, "active", null, null, 0);
    }

    /** An on-hold user: its time starts at the first connection, after {@code duration} seconds of it. */
    public synchronized void addOnHoldUser(String username, long duration) {
        addUser(username, "on_hold", null, null, 0);
        users.get(username.toLowerCase(Locale.ROOT)).put("on_hold_expire_duration", duration);
    }

    /** The administrator changes the user through the panel, as Marzban would store it. */
    public synchronized void admin(String username, String field, Object value) {
        users.get(username.toLowerCase(Locale.ROOT)).putPOJO(field, value);
    }

    public synchronized String status(String username) {
        return users.get(username.toLowerCase(Locale.ROOT)).path("status").asText();
    }

    public synchronized JsonNode user(String username) {
        return users.get(username.toLowerCase(Locale.ROOT)).deepCopy();
    }

    /** Every PUT that changed a user, in order, as {@code username status}. */
    public synchronized List<String> changes() {
        return List.copyOf(changes);
    }

    public synchronized List<String> changesOf(String username) {
        return changes.stream().filter(change -> change.startsWith(username + " ")).toList();
    }

    public synchronized int logins() {
        return logins;
    }

    public synchronized int failedLogins() {
        return failedLogins;
    }

    /** Every token issued so far is rejected, as after a reset of the admin's password or a token's expiry. */
    public synchronized void invalidateTokens() {
        tokens.clear();
    }

    private synchronized void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            if (path.equals("/api/admin/token") && method.equals("POST")) {
                login(exchange);
                return;
            }
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization == null || !authorization.startsWith("Bearer ")) {
                reply(exchange, 401, detail("Not authenticated"));
                return;
            }
            if (!tokens.contains(authorization.substring("Bearer ".length()))) {
                reply(exchange, 401, detail("Could not validate credentials"));
                return;
            }
            if (path.equals("/api/admin") && method.equals("GET")) {
                reply(exchange, 200, JSON.createObjectNode().put("username", ADMIN).put("is_sudo", true));
                return;
            }
            if (!path.startsWith("/api/user/")) {
                reply(exchange, 404, detail("Not Found"));
                return;
            }
            String name = URLDecoder.decode(path.substring("/api/user/".length()), StandardCharsets.UTF_8);
            ObjectNode user = users.get(name.toLowerCase(Locale.ROOT));
            if (user == null) {
                reply(exchange, 404, detail("User not found"));
            } else if (method.equals("GET")) {
                reply(exchange, 200, shown(user));
            } else if (method.equals("PUT")) {
                modify(exchange, user);
            } else {
                reply(exchange, 405, detail("Method Not Allowed"));
            }
        }
    }

    private void login(HttpExchange exchange) throws IOException {
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        Map<String, String> form = new HashMap<>();
        for (String pair : new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                form.put(URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
            }
        }
        if (type == null || !type.startsWith("application/x-www-form-urlencoded")) {
            reply(exchange, 422, detail("username and password are form fields"));
        } else if (ADMIN.equals(form.get("username")) && PASSWORD.equals(form.get("password"))) {
            logins++;
            String token = UUID.randomUUID().toString();
            tokens.add(token);
            reply(exchange, 200, JSON.createObjectNode().put("access_token", token).put("token_type", "bearer"));
        } else {
            failedLogins++;
            reply(exchange, 401, detail("Incorrect username or password"));
        }
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
            reply(exchange, 422, detail("User must have on_hold_expire_duration when status is on_hold"));
            return;
        }
        if (body.has("expire")) {
            long expire = body.get("expire").asLong();
            user.putPOJO("expire", expire == 0 ? null : expire);
        }
        if (status != null) {
            if (status.asText().equals("active") && user.path("status").asText().equals("on_hold")) {
                user.putNull("expire"); // the trap: an on-hold user set active has no time limit at all
            }
            // the other trap: a limited or expired user set active is active, until the review job runs
            user.put("status", status.asText());
        }
        changes.add(user.path("username").asText() + " " + user.path("status").asText());
        reply(exchange, 200, shown(user));
    }

    private static ObjectNode shown(ObjectNode user) {
        // changes on every response: a client must never compare it
        return user.deepCopy().put("subscription_url", "/sub/" + UUID.randomUUID());
    }

    private static ObjectNode detail(String text) {
        return JSON.createObjectNode().put("detail", text);
    }

    private static void reply(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            stop();
        }
    }
}
