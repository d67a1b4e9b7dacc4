package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real route (routes/agent.yaml) end to end: lines appended to a file, events in a real Redis. */
class AgentRouteTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String QUEUE = "node_logs_queue";
    private static final List<String> EVENT_FIELDS = List.of("timestamp", "node_id", "node_name", "email", "client_ip",
            "raw_line", "processed_at", "username", "inbound", "outbound", "forwarded", "network", "user_id");

    @TempDir
    Path dir;

    private RedisServer redis;
    private Path log;

    @BeforeEach
    void setUp() throws Exception {
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
        log = Files.createFile(dir.resolve("access.log"));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        redis.close();
    }

    private Map<String, String> env(String... pairs) {
        return AgentEnv.with(AgentEnv.of(redis.url(), log, "NODE_ID", "node-7", "NODE_NAME", "Frankfurt 7",
                "FLUSH_INTERVAL", "0.2", "RETRY_DELAY", "0.1", "MAX_RETRY_DELAY", "0.5", "REDIS_TIMEOUT", "1"), pairs);
    }

    @Test
    void everyLineShapeBecomesExactlyTheExpectedEventInFileOrder() throws Exception {
        record Expected(String line, String email, String clientIp, String time, String username, String inbound,
                        String outbound, boolean forwarded, String network) { }
        List<Expected> events = List.of(
            new Expected("2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:www.example.com:443 "
                    + "[VLESS TCP REALITY >> DIRECT] email: 17.maria", "17.maria", "198.51.100.23", "2025-03-01T18:04:11.093528",
                    "maria", "VLESS TCP REALITY", "DIRECT", false, "tcp"),
            new Expected("2025/03/01 18:04:11.204117 from tcp:203.0.113.80:5531 accepted udp:192.0.2.53:53 "
                    + "[VLESS TCP REALITY -> BLOCK] email: 3.ivan.petrov", "3.ivan.petrov", "203.0.113.80", "2025-03-01T18:04:11.204117",
                    "ivan.petrov", "VLESS TCP REALITY", "BLOCK", false, "udp"),
            new Expected("2024/10/02 07:15:00 from [2001:db8:41::9]:40112 accepted tcp:api.example.org:443 "
                    + "[vmess-ws >> direct] email: 5.olga", "5.olga", "2001:db8:41::9", "2024-10-02T07:15:00",
                    "olga", "vmess-ws", "direct", false, "tcp"),
            new Expected("2024/10/02 07:15:02 from 192.0.2.77:0 accepted tcp:198.51.100.9:443 [vless-grpc >> IPv4] "
                    + "email: 8.kim", "8.kim", "192.0.2.77", "2024-10-02T07:15:02", "kim", "vless-grpc", "IPv4", true, "tcp"),
            new Expected("2023/06/11 22:40:19 203.0.113.5:61200 accepted tcp:cdn.example.net:443 [TROJAN -> direct] "
                    + "email: 12.lee", "12.lee", "203.0.113.5", "2023-06-11T22:40:19", "lee", "TROJAN", "direct", false, "tcp"),
            new Expected("2022/02/08 09:01:44 198.51.100.4:3321 accepted tcp:example.com:80 [direct] email:4.sam ",
                    "4.sam", "198.51.100.4", "2022-02-08T09:01:44", "sam", null, "direct", false, "tcp"),
            new Expected("2025/03/01 18:06:00.000001 from tcp:[2001:DB8:0::9]:40112 accepted tcp:[2001:db8::443]:443 "
                    + "[in ==> out] email: alice@example.com", "alice@example.com", "2001:db8::9", "2025-03-01T18:06:00.000001",
                    "alice@example.com", "in", "out", false, "tcp"),
            new Expected("2025/03/01 18:06:01 from [::ffff:198.51.100.7]:40112 accepted tcp:example.com:443 [in -> out] email: 42",
                    "42", "198.51.100.7", "2025-03-01T18:06:01", null, "in", "out", false, "tcp"),
            new Expected("2025/03/01 18:06:02 from udp:198.51.100.23:40113 accepted udp:192.0.2.1:443 email: 9.ana",
                    "9.ana", "198.51.100.23", "2025-03-01T18:06:02", "ana", null, null, false, "udp"),
            new Expected("2025/03/01 18:06:03 from 198.51.100.50:1000 accepted tcp:example.com:443 [a >> b] email: 10.crlf\r",
                    "10.crlf", "198.51.100.50", "2025-03-01T18:06:03", "crlf", "a", "b", false, "tcp"));
        List<String> notAccepted = List.of(
            "2025/03/01 18:05:00.000001 from 203.0.113.9:4000 rejected  proxy/vless/encoding: invalid request user id",
            "2025/03/01 18:05:00.120000 DOHL//dns.example got answer: www.example.com -> [192.0.2.10] 3.1ms",
            "2025/03/01 18:05:03 [Warning] [1234] app/proxyman/inbound: connection ends > EOF",
            "");
        List<String> noEmail = List.of(
            "2025/03/01 18:05:01 from 127.0.0.1:51000 accepted tcp:127.0.0.1:0 [api -> api]",
            "2025/03/01 18:05:02 from DNS accepted udp:1.1.1.1:53 [dns-out]");
        List<String> malformed = List.of("garbage accepted nonsense");
        List<String> notAnIp = List.of(
            "2025/03/01 18:06:04 from xx.xx.xx.xx:1234 accepted tcp:example.com:443 [in -> out] email: 11.redacted",
            "2025/03/01 18:06:05 from [Masked IPv4]:40112 accepted tcp:example.com:443 [in -> out] email: 12.masked");
        String tooLong = "2025/03/01 18:07:00 from 198.51.100.1:1 accepted tcp:x:443 email: " + "x".repeat(70_000);

        try (RunningAgent agent = RunningAgent.start(env())) {
            List<String> skipped = new ArrayList<>(notAccepted);
            skipped.addAll(noEmail);
            skipped.addAll(malformed);
            skipped.addAll(notAnIp);
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) {
                lines.add(events.get(i).line());
                if (i < skipped.size()) {
                    lines.add(skipped.get(i));
                }
            }
            LogFile.append(log, String.join("\n", lines.subList(0, 10)) + "\n");
            for (String line : lines.subList(10, lines.size())) {
                LogFile.append(log, line + "\n"); // the rest one write per line, as Xray writes
            }
            LogFile.append(log, tooLong + "\n");
            awaitEvents(events.size());
            Wait.until("every line counted", LIMIT, () -> agent.skipped("malformed") >= 1);

            assertEquals(notAccepted.size(), agent.skipped("not_accepted"));
            assertEquals(noEmail.size(), agent.skipped("no_email"));
            assertEquals(malformed.size(), agent.skipped("malformed"));
            assertEquals(notAnIp.size(), agent.skipped("not_an_ip"));
            Wait.until("the long line counted", LIMIT, () -> agent.skipped("too_long") == 1);
        }

        List<String> elements = redis.queue(QUEUE);
        List<JsonNode> shipped = shipped();
        assertEquals(events.size(), shipped.size());
        for (int i = 0; i < events.size(); i++) {
            Expected expected = events.get(i);
            JsonNode event = shipped.get(i);
            assertEquals(expected.email(), event.get("email").asText());
            assertEquals(expected.clientIp(), event.get("client_ip").asText());
            // the exact text: plain decimal, microseconds kept
            assertTrue(elements.get(i).startsWith("{\"timestamp\":" + epochSeconds(expected.time()) + ","), elements.get(i));
            assertEquals(expected.line().stripTrailing(), event.get("raw_line").asText());
            assertEquals("node-7", event.get("node_id").asText());
            assertEquals("Frankfurt 7", event.get("node_name").asText());
            assertTrue(event.get("processed_at").isNumber());
            assertEquals(EVENT_FIELDS, fieldNames(event));
            assertEquals(expected.username(), textOrNull(event.get("username")), "username");
            assertEquals(expected.inbound(), textOrNull(event.get("inbound")), "inbound");
            assertEquals(expected.outbound(), textOrNull(event.get("outbound")), "outbound");
            assertEquals(expected.forwarded(), event.get("forwarded").booleanValue());
            assertEquals(expected.network(), textOrNull(event.get("network")), "network");
        }
    }

    @Test
    void aRestartResumesWhereItStoppedWithNothingLostOrDoubled() throws Exception {
        List<String> lines = AccessLines.numbered(0, 300);
        try (RunningAgent first = RunningAgent.start(env("START_POSITION", "beginning"))) {
            LogFile.append(log, lines.subList(0, 120));
            awaitEvents(120);
        }
        LogFile.append(log, lines.subList(120, 200)); // written while the agent is stopped
        try (RunningAgent second = RunningAgent.start(env())) {
            LogFile.append(log, lines.subList(200, 300));
            awaitEvents(300);
        }
        assertEquals(lines, shippedRawLines());
    }

    @Test
    void aHalfWrittenLineIsShippedOnceWhole() throws Exception {
        String line = AccessLines.numbered(0, 1).get(0);
        try (RunningAgent agent = RunningAgent.start(env())) {
            LogFile.append(log, line.substring(0, 60));
            Thread.sleep(600); // several flush intervals pass while the line is incomplete
            LogFile.append(log, line.substring(60) + "\n");
            awaitEvents(1);
        }
        assertEquals(List.of(line), shippedRawLines());
    }

    @Test
    void aRedisOutageDelaysEventsButLosesAndDoublesNone() throws Exception {
        List<String> lines = AccessLines.numbered(0, 400);
        try (RunningAgent agent = RunningAgent.start(env())) {
            LogFile.append(log, lines.subList(0, 100));
            awaitEvents(100);
            redis.stop();
            LogFile.append(log, lines.subList(100, 300));
            Thread.sleep(1500); // several failed attempts while Redis is away
            redis.start();
            LogFile.append(log, lines.subList(300, 400));
            awaitEvents(400);
            assertTrue(agent.logged("Batches are written again after"), "the end of the outage is logged once");
        }
        assertEquals(lines, shippedRawLines());
    }

    @Test
    void waitsForRedisAtStartWithoutSkippingAnything() throws Exception {
        List<String> lines = AccessLines.numbered(0, 50);
        LogFile.append(log, lines);
        redis.stop();
        Thread redisComesBack = new Thread(() -> {
            try {
                Thread.sleep(1000);
                redis.start();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        redisComesBack.start();
        try (RunningAgent agent = RunningAgent.start(env("START_POSITION", "beginning"))) {
            redisComesBack.join();
            awaitEvents(50);
        }
        assertEquals(lines, shippedRawLines());
    }

    @Test
    void aRateLimitLetsEveryEventThroughInOrder() throws Exception {
        List<String> lines = AccessLines.numbered(0, 120);
        try (RunningAgent agent = RunningAgent.start(env("MAX_EVENTS_PER_SECOND", "50", "BATCH_SIZE", "10"))) {
            LogFile.append(log, lines);
            awaitEvents(120);
        }
        assertEquals(lines, shippedRawLines());
    }

    @Test
    void anOperatorsOwnRouteDirectoryReplacesTheBundledRoute() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("routes"));
        String bundled = Files.readString(Path.of("routes", "agent.yaml"));
        // an operator's edits: one more step before the writer, and docs/CONFIGURATION.md's example after the parse
        String edited = bundled.replace("              - bean:\n                  ref: batchWriter",
                "              - setProperty:\n                  name: edited\n                  constant: \"yes\"\n"
                        + "              - bean:\n                  ref: batchWriter")
                .replace("              method: parseAll\n", "              method: parseAll\n        - log:\n"
                        + "            loggingLevel: WARN\n" // the tests' logging keeps WARN and above of Camel's
                        + "            message: \"{{nodeId}}: ${body.events.size} events for {{queueKey}}\"\n");
        assertTrue(!edited.equals(bundled), "the bundled route changed shape; update this test");
        Files.writeString(routes.resolve("agent.yaml"), edited);
        List<String> lines = AccessLines.numbered(0, 10);
        try (RunningAgent agent = RunningAgent.start(env("ROUTES_DIR", routes.toString()))) {
            LogFile.append(log, lines);
            awaitEvents(10);
            assertTrue(agent.routeDefinitionContains("edited"));
            assertTrue(agent.logged(" events for node_logs_queue"), "the documented example logs");
        }
        assertEquals(lines, shippedRawLines());
    }

    @Test
    void startPositionEndShipsWhatWasLoggedWhileTheAgentStartedAndALoneLineAtOnce() throws Exception {
        String history = "2024/01/01 00:00:00 from 198.51.100.1:1 accepted tcp:example.com:443 email: 1.history";
        String duringStart = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS").format(LocalDateTime.now(ZoneOffset.UTC))
                + " from 198.51.100.2:2 accepted tcp:example.com:443 email: 2.during-start";
        LogFile.append(log, List.of(history, duringStart));
        // an hour's FLUSH_INTERVAL: only the quiet-spell rule can write the lone event before the test gives up;
        // the look back needs the zone set by hand (auto knows none yet at start)
        try (RunningAgent agent = RunningAgent.start(env("FLUSH_INTERVAL", "3600", "LOG_TIMEZONE", "UTC"))) {
            awaitEvents(1);
        }
        assertEquals(List.of(duringStart), shippedRawLines());
    }

    @Test
    void theRestOfABurstIsWrittenOnceTheTailerCatchesUpNotAtTheNextTick() throws Exception {
        List<String> burst = new ArrayList<>();
        for (int i = 0; i < 1_520; i++) { // about 160 KB: more than the 128 KiB that makes a read a backlog
            burst.add(String.format("2025/03/01 18:04:11.%06d from 198.51.100.%d:4000 accepted tcp:example.com:443 "
                    + "[in >> out] email: %d.user", i, i % 250 + 1, i));
        }
        LogFile.append(log, burst);
        // read from the start in one go: groups of 50 and a last one of 20. With an hour's FLUSH_INTERVAL, only
        // the catch-up rule can write those 20 before the test gives up
        try (RunningAgent agent = RunningAgent.start(env("FLUSH_INTERVAL", "3600", "BATCH_SIZE", "50",
                "START_POSITION", "beginning"))) {
            awaitEvents(1_520);
        }
        assertEquals(burst, shippedRawLines());
    }

    // ---- helpers ----

    @Test
    void aMaskedLogGivesNoEventsAndExactlyOneWarningHoweverManyMaskedLinesItHas() throws Exception {
        String rest = " accepted tcp:www.example.com:443 [in >> out] email: 17.maria";
        List<String> masked = List.of("203.0.*.*:40112", "203.0.113.*:40112", "[Masked IPv4]:40112",
                "[Masked IPv6]:40112", "[2001:db8::/64]:40112", "tcp:203.*.*.*:5531");
        try (RunningAgent agent = RunningAgent.start(env())) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                lines.add("2025/03/01 18:04:11.093528 from " + masked.get(i % masked.size()) + rest);
            }
            LogFile.append(log, lines);
            LogFile.append(log, lines.subList(0, 50)); // a later read with masked lines again
            LogFile.append(log, "2025/03/01 18:04:12 from 198.51.100.23:40112" + rest + "\n");
            awaitEvents(1);
            Wait.until("every masked line counted", LIMIT, () -> agent.skipped("not_an_ip") == 350);
            assertEquals(1, agent.timesLogged("Xray masks client addresses"));
            assertTrue(agent.logged("IP limiting cannot work until log.maskAddress is removed"));
        }
        assertEquals(List.of("198.51.100.23"), shipped().stream().map(event -> event.get("client_ip").asText()).toList());
    }

    @Test
    void theHeartbeatIsSetSoonAfterTheStartWithNoLinesAndExpires() throws Exception {
        try (RunningAgent agent = RunningAgent.start(env());
             redis.clients.jedis.Jedis jedis = redis.client()) {
            String key = "{node_logs_queue}:heartbeat:node-7";
            Wait.until("the heartbeat", LIMIT, () -> jedis.exists(key));
            JsonNode beat = JSON.readTree(jedis.get(key));
            assertEquals("node-7", beat.get("node_id").asText());
            assertEquals("Frankfurt 7", beat.get("node_name").asText());
            assertEquals(log.toString(), beat.get("file").asText());
            long ttl = jedis.ttl(key);
            assertTrue(ttl > 0 && ttl <= 90, "TTL " + ttl);

            LogFile.append(log, AccessLines.numbered(1) + "\n");
            awaitEvents(1);
            JsonNode afterBatch = JSON.readTree(jedis.get(key));
            assertEquals(Files.size(log), afterBatch.get("offset").asLong(), "the batch's transaction set it");
            assertEquals(0, afterBatch.get("lag_bytes").asLong());
        }
    }

    private void awaitEvents(int count) throws InterruptedException {
        Wait.until(count + " events in Redis", LIMIT, () -> redis.length(QUEUE) >= count);
    }

    private List<JsonNode> shipped() throws IOException {
        List<JsonNode> events = new ArrayList<>();
        for (String element : redis.queue(QUEUE)) {
            events.add(JSON.readTree(element));
        }
        return events;
    }

    private List<String> shippedRawLines() {
        return redis.rawLines(QUEUE);
    }

    private static List<String> fieldNames(JsonNode event) {
        List<String> names = new ArrayList<>();
        event.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String textOrNull(JsonNode value) {
        return value.isNull() ? null : value.asText();
    }

    private static String epochSeconds(String localTime) {
        LocalDateTime time = LocalDateTime.parse(localTime, DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        return time.toEpochSecond(ZoneOffset.UTC) + "." + String.format("%06d", time.getNano() / 1000);
    }
}
