package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.marzban.iplimiter.redis.KeySpace;
import io.marzban.iplimiter.support.RedisServer;
import java.util.List;
import redis.clients.jedis.Jedis;

/** Events as the agents put them into the queue (LPUSH, newest at the left), with the fields of docs/CONFIGURATION.md. */
final class Events {

    static final String QUEUE = "node_logs_queue";
    /** The limiter's key names with the default queue, single server. */
    static final LimiterKeys KEYS = new LimiterKeys(new KeySpace(QUEUE));
    private static final ObjectMapper JSON = new ObjectMapper();

    private Events() {
    }

    /** An event seen now by {@code node}: user {@code <id>.<username>} from {@code address}. */
    static String event(String node, String username, String address) {
        return event(node, username, address, System.currentTimeMillis() / 1000.0, false);
    }

    /**
     * An event seen now by {@code node} for the user Xray logs as {@code email}, with the {@code username} and
     * {@code user_id} the agent takes from it ({@code 42.maria}, or PasarGuard 5's bare {@code 42}).
     */
    static String ofEmail(String node, String email, String address) {
        return ofEmail(node, email, address, System.currentTimeMillis() / 1000.0, false);
    }

    static String ofEmail(String node, String email, String address, double timestamp, boolean forwarded) {
        ObjectNode event = (ObjectNode) read(event(node, "x", address, timestamp, forwarded));
        int dot = email.indexOf('.');
        event.put("email", email);
        event.put("user_id", Long.parseLong(dot < 0 ? email : email.substring(0, dot)));
        if (dot < 0) {
            event.putNull("username");
        } else {
            event.put("username", email.substring(dot + 1));
        }
        event.put("raw_line", "from " + address + ":0 accepted tcp:example.com:443 email: " + email);
        return event.toString();
    }

    private static com.fasterxml.jackson.databind.JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String event(String node, String username, String address, double timestamp, boolean forwarded) {
        ObjectNode event = JSON.createObjectNode();
        event.put("timestamp", microseconds(timestamp));
        event.put("node_id", node);
        event.put("node_name", node);
        event.put("email", "17." + username);
        event.put("username", username);
        event.put("client_ip", address);
        event.put("forwarded", forwarded);
        event.put("network", "tcp");
        event.put("inbound", "VLESS TCP REALITY");
        event.put("outbound", "DIRECT");
        event.put("raw_line", "from " + address + ":0 accepted tcp:example.com:443 email: 17." + username);
        event.put("processed_at", System.currentTimeMillis() / 1000.0);
        return event.toString();
    }

    /** The consuming script's entry for a connection from {@code member} at {@code timestamp} seen by {@code node}. */
    static String entry(String member, double timestamp, String node) {
        long slot = (long) Math.floor(timestamp / EventConsumer.SLOT_SECONDS) * EventConsumer.SLOT_SECONDS;
        return member + "@" + slot + "@" + node;
    }

    /** Epoch seconds with 6 decimals, as the agents write them. */
    static double microseconds(double timestamp) {
        return Math.round(timestamp * 1e6) / 1e6;
    }

    /** Maria on three devices: two addresses seen by node-a, one by node-b. */
    static void pushThreeDevices(RedisServer redis) {
        push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                event("node-b", "maria", "203.0.113.7"));
    }

    static void push(RedisServer redis, String... events) {
        push(redis, List.of(events));
    }

    static void push(RedisServer redis, List<String> events) {
        try (Jedis jedis = redis.client()) {
            jedis.lpush(QUEUE, events.toArray(new String[0]));
        }
    }
}
