package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.management.Reply;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.CentralRedisException;
import io.marzban.iplimiter.redis.KeySpace;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Each node's clock and sign of life, from its heartbeat ({@code {<QUEUE_KEY>}:heartbeat:<NODE_ID>}). Its age is
 * what has passed of its expiry, as Redis counts it, so no clock enters it; the node's clock offset is the time it
 * carries against this limiter's clock at the moment it was written. What each node told last is kept in the
 * {@code heartbeats} hash, so a node stays known after its heartbeat expired and after a limiter restart.
 *
 * <p>A node more than {@value #SKEWED_SECONDS} s off, or silent for 3 heartbeats ({@value #SILENT_SECONDS} s), is
 * one WARN and one {@code node_clock} or {@code node_silent} notification, however many limiters run (the
 * {@code node-alerts} hash holds which were sent), and one INFO once it is right again. A node silent for
 * {@value #FORGOTTEN_DAYS} days is taken for decommissioned and forgotten: its record, alerts and meters go.
 */
public final class NodeClocks {

    static final String PATH = "/observe/limiter/nodes";
    static final double SKEWED_SECONDS = 30;
    /** An idle agent sets its heartbeat every 30 s; a busy one every 10 s. */
    static final double SILENT_SECONDS = 90;
    static final int FORGOTTEN_DAYS = 7;
    private static final Logger LOG = LoggerFactory.getLogger(NodeClocks.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SCAN_COUNT = 100;

    private final CentralRedis redis;
    private final KeySpace agentKeys;
    private final LimiterKeys keys;
    private final Clock clock;
    private final Notifications notifications;
    private final MeterRegistry meters;
    /** The nodes as last checked, by id: what the meters show. */
    private final Map<String, Node> checked = new ConcurrentHashMap<>();

    /**
     * One node as its last heartbeat told.
     *
     * @param lastHeartbeat when the heartbeat was written, by this limiter's clock (epoch seconds)
     * @param clockOffset   the node's clock minus this limiter's, seconds; null if the heartbeat carried no time
     */
    record Node(String nodeId, String nodeName, double lastHeartbeat, Double clockOffset, long lagBytes, String file,
                String version) {

        double ageAt(double now) {
            return Math.max(0, now - lastHeartbeat);
        }

        boolean silentAt(double now) {
            return ageAt(now) >= SILENT_SECONDS;
        }

        boolean clockSkewed() {
            return clockOffset != null && Math.abs(clockOffset) > SKEWED_SECONDS;
        }
    }

    public NodeClocks(CentralRedis redis, KeySpace agentKeys, LimiterKeys keys, Clock clock,
                      Notifications notifications, MeterRegistry meters) {
        this.redis = redis;
        this.agentKeys = agentKeys;
        this.keys = keys;
        this.clock = clock;
        this.notifications = notifications;
        this.meters = meters;
    }

    /** The timer's step: reads every node's heartbeat, and tells of a node that became silent or skewed. */
    public void check() {
        double now = now();
        for (Node node : nodes()) {
            if (node.ageAt(now) >= FORGOTTEN_DAYS * 86_400.0) {
                forget(node);
                continue;
            }
            if (checked.put(node.nodeId(), node) == null) {
                addMeters(node.nodeId());
            }
            alert(node, "node_silent", node.silentAt(now), () -> {
                LOG.warn("Node {} ({}) is silent: no heartbeat for {} s (its agent is down, or cannot reach Redis)",
                        node.nodeId(), node.nodeName(), Math.round(node.ageAt(now)));
                return Map.of("heartbeat_age_seconds", rounded(node.ageAt(now)));
            }, "Node {} ({}) is heard from again");
            alert(node, "node_clock", node.clockSkewed(), () -> {
                LOG.warn("Node {} ({}): its clock is {} s off this limiter's; its events are dated by it (set up NTP "
                        + "on the node)", node.nodeId(), node.nodeName(), rounded(node.clockOffset()));
                return Map.of("clock_offset_seconds", rounded(node.clockOffset()));
            }, "Node {} ({}): its clock is right again");
        }
    }

    private void forget(Node node) {
        redis.call(jedis -> {
            jedis.hdel(keys.nodeAlerts(), "node_silent:" + node.nodeId(), "node_clock:" + node.nodeId());
            return jedis.hdel(keys.heartbeats(), node.nodeId());
        });
        if (checked.remove(node.nodeId()) != null) {
            meters.find("marzban_limiter_node_clock_offset_seconds").tag("node", node.nodeId()).meters()
                    .forEach(meters::remove);
            meters.find("marzban_limiter_node_heartbeat_age_seconds").tag("node", node.nodeId()).meters()
                    .forEach(meters::remove);
        }
        LOG.info("Node {} ({}) forgotten: silent for {} days, taken for decommissioned", node.nodeId(),
                node.nodeName(), FORGOTTEN_DAYS);
    }

    /** Every node known, by id: those with a heartbeat now (remembered) and those whose heartbeat expired. */
    List<Node> nodes() {
        return redis.call(jedis -> {
            Map<String, Node> nodes = new TreeMap<>();
            for (String remembered : jedis.hgetAll(keys.heartbeats()).values()) {
                Node node = remembered(remembered);
                if (node != null) {
                    nodes.put(node.nodeId(), node);
                }
            }
            for (String key : heartbeatKeys(jedis)) {
                Node node = heard(jedis.get(key), jedis.pttl(key));
                if (node != null) {
                    nodes.put(node.nodeId(), node);
                    jedis.hset(keys.heartbeats(), node.nodeId(), json(node));
                }
            }
            return new ArrayList<>(nodes.values());
        });
    }

    /** {@code GET /observe/limiter/nodes}: every node known, as JSON (see docs/LIMITER.md). */
    Reply answer() throws JsonProcessingException {
        List<Node> nodes;
        try {
            nodes = nodes();
        } catch (CentralRedisException e) {
            return Reply.text(503, null, String.valueOf(e.getMessage()));
        }
        double now = now();
        List<Map<String, Object>> described = new ArrayList<>();
        for (Node node : nodes) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("node_id", node.nodeId());
            fields.put("node_name", node.nodeName());
            fields.put("last_heartbeat", UserInspection.seconds(node.lastHeartbeat()));
            fields.put("heartbeat_age_seconds", rounded(node.ageAt(now)));
            fields.put("clock_offset_seconds", node.clockOffset() == null ? null : rounded(node.clockOffset()));
            fields.put("lag_bytes", node.lagBytes());
            fields.put("file", node.file());
            fields.put("version", node.version());
            fields.put("silent", node.silentAt(now));
            fields.put("clock_skewed", node.clockSkewed());
            described.add(fields);
        }
        return new Reply(200, Reply.JSON, JSON.writeValueAsBytes(Map.of("nodes", described)));
    }

    private List<String> heartbeatKeys(Jedis jedis) {
        List<String> found = new ArrayList<>();
        ScanParams matching = new ScanParams().match(agentKeys.heartbeatPattern()).count(SCAN_COUNT);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, matching);
            found.addAll(page.getResult());
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return found;
    }

    /** A node from its heartbeat and the milliseconds left of its expiry; null if it expired meanwhile or is none. */
    private Node heard(String heartbeat, long millisLeft) {
        if (heartbeat == null || millisLeft == -2) {
            return null;
        }
        try {
            JsonNode fields = JSON.readTree(heartbeat);
            String nodeId = fields.path("node_id").asText(null);
            if (nodeId == null) {
                return null;
            }
            double now = now();
            // without an expiry (set by hand) its age is not known: taken as written now
            double written = millisLeft < 0 ? now : now - (KeySpace.HEARTBEAT_TTL_SECONDS - millisLeft / 1000.0);
            JsonNode time = fields.get("time");
            return new Node(nodeId, fields.path("node_name").asText(nodeId), written,
                    time != null && time.isNumber() ? time.asDouble() - written : null,
                    fields.path("lag_bytes").asLong(), fields.path("file").asText(null),
                    fields.path("version").asText(null));
        } catch (JsonProcessingException e) {
            LOG.debug("Not a heartbeat: {}", e.getOriginalMessage());
            return null;
        }
    }

    private static String json(Node node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a record of strings and numbers is JSON", e);
        }
    }

    private static Node remembered(String json) {
        try {
            return JSON.readValue(json, Node.class);
        } catch (JsonProcessingException e) {
            return null; // written by hand or by another version: the next heartbeat replaces it
        }
    }

    /**
     * Sends {@code notification} the first time {@code now} holds for {@code node} (whichever limiter sees it first),
     * and logs {@code recovered} once it no longer does. {@code warn} logs the warning and gives the notification's
     * own fields.
     */
    private void alert(Node node, String notification, boolean now, WarningLine warn, String recovered) {
        String field = notification + ":" + node.nodeId();
        if (now) {
            if (redis.call(jedis -> jedis.hsetnx(keys.nodeAlerts(), field, "1")) == 1) {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("node_id", node.nodeId());
                fields.put("node_name", node.nodeName());
                fields.putAll(warn.logAndDescribe());
                notifications.send(notification, fields);
            }
        } else if (redis.call(jedis -> jedis.hdel(keys.nodeAlerts(), field)) == 1) {
            LOG.info(recovered, node.nodeId(), node.nodeName());
        }
    }

    @FunctionalInterface
    private interface WarningLine {
        Map<String, Object> logAndDescribe();
    }

    private void addMeters(String nodeId) {
        Gauge.builder("marzban_limiter_node_clock_offset_seconds", checked, nodes -> {
            Node node = nodes.get(nodeId);
            return node == null || node.clockOffset() == null ? Double.NaN : node.clockOffset();
        }).tag("node", nodeId).description("The node's clock minus this limiter's, from its last heartbeat")
                .register(meters);
        Gauge.builder("marzban_limiter_node_heartbeat_age_seconds", checked, nodes -> {
            Node node = nodes.get(nodeId);
            return node == null ? Double.NaN : node.ageAt(now());
        }).tag("node", nodeId).description("Time since the node's last heartbeat (90 s or more: silent)")
                .register(meters);
    }

    private double now() {
        return clock.millis() / 1000.0;
    }

    private static BigDecimal rounded(double seconds) {
        return BigDecimal.valueOf(seconds).setScale(3, RoundingMode.HALF_EVEN);
    }
}
