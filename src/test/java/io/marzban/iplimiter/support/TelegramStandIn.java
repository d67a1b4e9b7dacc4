package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in of Telegram's Bot API on loopback for one bot: {@code getUpdates} hands out the messages queued with
 * {@link #receive} (from {@code offset} on, as Telegram does; at once, without long polling), and
 * {@code sendMessage} keeps what the bot said. Any other method, or another token, is answered 404 like Telegram.
 */
public final class TelegramStandIn implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String token;
    private final HttpServer server;
    private final List<ObjectNode> updates = new ArrayList<>();
    private final List<JsonNode> sent = new CopyOnWriteArrayList<>();

    private TelegramStandIn(String token) throws IOException {
        this.token = token;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        server.createContext("/", this::handle);
        server.start();
    }

    public static TelegramStandIn start(String token) throws IOException {
        return new TelegramStandIn(token);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** A text message to the bot in {@code chat} from Telegram user {@code username}. */
    public synchronized void receive(long chat, String username, String text) {
        ObjectNode update = JSON.createObjectNode().put("update_id", updates.size() + 1);
        ObjectNode message = update.putObject("message").put("message_id", updates.size() + 100)
                .put("date", System.currentTimeMillis() / 1000).put("text", text);
        message.putObject("chat").put("id", chat).put("type", "group");
        message.putObject("from").put("id", 7000 + chat).put("is_bot", false).put("first_name", username)
                .put("username", username);
        updates.add(update);
    }

    /** The texts the bot sent so far, to any chat, with their chat: "chat_id text". */
    public List<String> said() {
        return sent.stream().map(message -> message.path("chat_id").asText() + " " + message.path("text").asText())
                .toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            String prefix = "/bot" + token + "/";
            byte[] body = exchange.getRequestBody().readAllBytes();
            String answer;
            if (path.equals(prefix + "getUpdates")) {
                answer = updatesFrom(offset(exchange.getRequestURI().getRawQuery()));
            } else if (path.equals(prefix + "sendMessage")) {
                JsonNode message = JSON.readTree(body);
                sent.add(message);
                answer = "{\"ok\":true,\"result\":{\"message_id\":1,\"date\":1700000000,\"chat\":{\"id\":"
                        + message.path("chat_id").asText() + ",\"type\":\"group\"},\"text\":\"ok\"}}";
            } else {
                reply(exchange, 404, "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}");
                return;
            }
            reply(exchange, 200, answer);
        } finally {
            exchange.close();
        }
    }

    private synchronized String updatesFrom(long offset) {
        ArrayNode result = JSON.createArrayNode();
        updates.stream().filter(update -> update.get("update_id").asLong() >= offset).forEach(result::add);
        return "{\"ok\":true,\"result\":" + result + "}";
    }

    private static long offset(String query) {
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.startsWith("offset=")) {
                    try {
                        return Long.parseLong(pair.substring("offset=".length()));
                    } catch (NumberFormatException e) {
                        return 0;
                    }
                }
            }
        }
        return 0;
    }

    private static void reply(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
