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
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * What the panels' stand-ins share: an HTTP server on loopback that can go away and come back, the OAuth2 form
 * login every panel of the family takes (401 {@code Incorrect username or password}), bearer tokens that can be
 * invalidated (401 {@code Not authenticated}, {@code Could not validate credentials}), and the changes made.
 */
abstract class StandInServer implements PanelStandIn {

    static final ObjectMapper JSON = new ObjectMapper();

    private final int port = Ports.free();
    private final String loginPath;
    private final Set<String> tokens = new HashSet<>();
    final List<String> changes = new ArrayList<>();
    private int logins;
    private int failedLogins;
    private HttpServer server;

    StandInServer(String loginPath) {
        this.loginPath = loginPath;
    }

    @Override
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public synchronized void stop() {
        server.stop(0);
        server = null;
    }

    @Override
    public synchronized void restart() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        server.createContext("/", this::handle);
        server.start();
    }

    @Override
    public synchronized List<String> changes() {
        return List.copyOf(changes);
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

    /** A request that passed authentication; {@code path} is the raw path. */
    abstract void serve(HttpExchange exchange, String method, String path) throws IOException;

    /** A request with other credentials than a bearer token (an API key): true if it was accepted. */
    boolean otherCredentials(HttpExchange exchange) {
        return false;
    }

    /** Public routes (/openapi.json): true if it answered. */
    boolean servePublic(HttpExchange exchange, String method, String path) throws IOException {
        return false;
    }

    private synchronized void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            if (path.equals(loginPath) && method.equals("POST")) {
                login(exchange);
                return;
            }
            if (servePublic(exchange, method, path)) {
                return;
            }
            if (!otherCredentials(exchange)) {
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                if (authorization == null || !authorization.startsWith("Bearer ")) {
                    reply(exchange, 401, detail("Not authenticated"));
                    return;
                }
                if (!tokens.contains(authorization.substring("Bearer ".length()))) {
                    reply(exchange, 401, detail("Could not validate credentials"));
                    return;
                }
            }
            serve(exchange, method, path);
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

    /** The last path segment after {@code prefix}, decoded. */
    static String segment(String path, String prefix) {
        return URLDecoder.decode(path.substring(prefix.length()), StandardCharsets.UTF_8);
    }

    static ObjectNode detail(String text) {
        return JSON.createObjectNode().put("detail", text);
    }

    static void reply(HttpExchange exchange, int status, JsonNode body) throws IOException {
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
