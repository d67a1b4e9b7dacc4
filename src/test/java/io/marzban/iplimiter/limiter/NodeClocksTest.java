package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.SetParams;

/** Each node's clock and sign of life, from the heartbeats in a real Redis; notifications to a real webhook. */
class NodeClocksTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final KeySpace AGENT_KEYS = new KeySpace(Events.QUEUE);

    @TempDir
    Path dir;
    private RedisServer redis;
    private CentralRedis central;
    private HttpServer webhook;
    private final List<JsonNode> notified = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Notifications notifications;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(dir);
        central = redis.central(5000);
        webhook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        webhook.createContext("/hook", exchange -> {
            notified.add(JSON.readTree(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        webhook.start();
        notifications = new Notifications(URI.create("http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook"),
                null, null, meters);
    }

    @AfterEach
    void stop() throws Exception {
        webhook.stop(0);
        central.close();
        redis.close();
    }

    @Test
    void aNodeWhoseClockRunsTwoMinutesAheadIsReportedOnce() throws Exception {
        NodeClocks clocks = clocks(meters);
        double now = System.currentTimeMillis() / 1000.0;
        beat("node-ahead", now + 120, 90);
        beat("node-right", now, 90);
        clocks.check();
        clocks.check();

        Wait.until("node_clock notified", LIMIT, () -> notified("node_clock").size() == 1);
        JsonNode notification = notified("node_clock").get(0);
        assertEquals("node-ahead", notification.get("node_id").asText());
        assertEquals(120, notification.get("clock_offset_seconds").asDouble(), 2);
        JsonNode nodes = JSON.readTree(clocks.answer().body()).get("nodes");
        assertEquals(2, nodes.size());
        JsonNode ahead = nodes.get(0);
        assertEquals("node-ahead", ahead.get("node_id").asText());
        assertEquals("Node node-ahead", ahead.get("node_name").asText());
        assertEquals(120, ahead.get("clock_offset_seconds").asDouble(), 2);
        assertTrue(ahead.get("clock_skewed").asBoolean());
        assertFalse(ahead.get("silent").asBoolean());
        assertEquals(4096, ahead.get("lag_bytes").asLong());
        assertEquals("/var/lib/marzban-node/access.log", ahead.get("file").asText());
        assertEquals("1.0.0", ahead.get("version").asText());
        assertTrue(ahead.get("heartbeat_age_seconds").asDouble() < 10, ahead.toString());
        assertTrue(ahead.get("last_heartbeat").isNumber(), ahead.toString());
        assertFalse(nodes.get(1).get("clock_skewed").asBoolean());
        assertEquals(120, meters.get("marzban_limiter_node_clock_offset_seconds").tag("node", "node-ahead").gauge()
                .value(), 2);
        assertEquals(0, meters.get("marzban_limiter_node_clock_offset_seconds").tag("node", "node-right").gauge()
                .value(), 2);

        // a second limiter (or this one restarted) does not tell again
        clocks(new SimpleMeterRegistry()).check();
        fallSilent("node-right", clocks);
        Wait.until("node-right silent", LIMIT, () -> notified("node_silent").size() == 1);
        assertEquals(1, notified("node_clock").size(), "sent before node_silent, and once");
    }

    @Test
    void aNodeSilentForThreeHeartbeatsIsReportedAfterItsHeartbeatExpiredAndForgivenWhenHeardAgain() throws Exception {
        NodeClocks clocks = clocks(meters);
        fallSilent("node-1", clocks);

        Wait.until("node_silent notified", LIMIT, () -> notified("node_silent").size() == 1);
        assertTrue(notified("node_silent").get(0).get("heartbeat_age_seconds").asDouble() >= 90);
        JsonNode node = JSON.readTree(clocks(new SimpleMeterRegistry()).answer().body()).get("nodes").get(0);
        assertTrue(node.get("silent").asBoolean(), "known after its heartbeat expired, to a new limiter: " + node);
        assertTrue(meters.get("marzban_limiter_node_heartbeat_age_seconds").tag("node", "node-1").gauge().value()
                >= 90);

        beat("node-1", System.currentTimeMillis() / 1000.0, 90);
        clocks.check();
        try (Jedis jedis = redis.client()) {
            assertEquals(Map.of(), jedis.hgetAll(Events.KEYS.nodeAlerts()), "heard from again");
        }
        assertFalse(JSON.readTree(clocks.answer().body()).get("nodes").get(0).get("silent").asBoolean());
    }

    @Test
    void aNodeSilentForAWeekIsForgottenWithItsAlertsAndMeters() throws Exception {
        NodeClocks clocks = clocks(meters);
        beat("node-old", System.currentTimeMillis() / 1000.0, 90);
        clocks.check();
        try (Jedis jedis = redis.client()) {
            jedis.del(AGENT_KEYS.heartbeat("node-old"));
            // what a limiter remembers of a node last heard from eight days ago, reported silent since
            JsonNode record = JSON.readTree(jedis.hget(Events.KEYS.heartbeats(), "node-old"));
            ((ObjectNode) record).put("lastHeartbeat", System.currentTimeMillis() / 1000.0 - 8 * 86_400);
            jedis.hset(Events.KEYS.heartbeats(), "node-old", record.toString());
            jedis.hset(Events.KEYS.nodeAlerts(), "node_silent:node-old", "1");
        }
        assertTrue(meters.find("marzban_limiter_node_heartbeat_age_seconds").tag("node", "node-old").gauge() != null);

        clocks.check();
        try (Jedis jedis = redis.client()) {
            assertEquals(Map.of(), jedis.hgetAll(Events.KEYS.heartbeats()));
            assertEquals(Map.of(), jedis.hgetAll(Events.KEYS.nodeAlerts()));
        }
        assertEquals(0, JSON.readTree(clocks.answer().body()).get("nodes").size());
        assertTrue(meters.find("marzban_limiter_node_heartbeat_age_seconds").tag("node", "node-old").meters()
                .isEmpty());
    }

    private NodeClocks clocks(SimpleMeterRegistry registry) {
        return new NodeClocks(central, AGENT_KEYS, Events.KEYS, Clock.systemUTC(), notifications, registry);
    }

    /** A last heartbeat set 89 s ago, as far as its expiry tells (one second left), checked until it is 90 s old. */
    private void fallSilent(String node, NodeClocks clocks) throws InterruptedException {
        beat(node, System.currentTimeMillis() / 1000.0 - 89, 1);
        clocks.check();
        Wait.until("the heartbeat expired", LIMIT, () -> !exists(AGENT_KEYS.heartbeat(node)));
        Wait.until(node + " silent", LIMIT, () -> {
            clocks.check();
            return clocks.nodes().stream().anyMatch(known -> known.nodeId().equals(node)
                    && known.silentAt(System.currentTimeMillis() / 1000.0));
        });
    }

    /** The heartbeat an agent sets, with its own clock's {@code time}, expiring in {@code seconds}. */
    private void beat(String node, double time, int seconds) {
        String value = String.format("{\"node_id\":\"%s\",\"node_name\":\"Node %s\",\"version\":\"1.0.0\","
                + "\"file\":\"/var/lib/marzban-node/access.log\",\"offset\":1024,\"lag_bytes\":4096,\"time\":%.6f}",
                node, node, time);
        try (Jedis jedis = redis.client()) {
            jedis.set(AGENT_KEYS.heartbeat(node), value, SetParams.setParams().ex(seconds));
        }
    }

    private boolean exists(String key) {
        try (Jedis jedis = redis.client()) {
            return jedis.exists(key);
        }
    }

    private List<JsonNode> notified(String event) {
        return notified.stream().filter(n -> n.get("event").asText().equals(event)).toList();
    }
}
