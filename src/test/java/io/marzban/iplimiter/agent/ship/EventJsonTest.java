package io.marzban.iplimiter.agent.ship;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.agent.parse.AccessLineParser;
import io.marzban.iplimiter.agent.parse.ConnectionEvent;
import io.marzban.iplimiter.agent.parse.LogZone;
import io.marzban.iplimiter.agent.parse.ParsedLines;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.marzban.iplimiter.support.AccessLines;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventJsonTest {

    private final EventJson json = new EventJson();

    @Test
    void writesTheFieldsInOrderWithPlainSixDigitEpochSeconds() {
        ConnectionEvent event = new ConnectionEvent(
                Instant.ofEpochSecond(1_740_852_251L, 1_000L),
                "node-1", "Frankfurt 1", "17.maria", "2001:db8:41::9",
                "2025/03/01 18:04:11.000001 from [2001:db8:41::9]:0 accepted udp:a:443 [\"q\" >> out] email: 17.maria",
                Instant.ofEpochSecond(1_740_852_600L), "maria", "\"q\"", "out", true, "udp", 17L);

        assertEquals("{\"timestamp\":1740852251.000001,\"node_id\":\"node-1\",\"node_name\":\"Frankfurt 1\","
                + "\"email\":\"17.maria\",\"client_ip\":\"2001:db8:41::9\","
                + "\"raw_line\":\"2025/03/01 18:04:11.000001 from [2001:db8:41::9]:0 accepted udp:a:443 "
                + "[\\\"q\\\" >> out] email: 17.maria\","
                + "\"processed_at\":1740852600.000000,\"username\":\"maria\",\"inbound\":\"\\\"q\\\"\","
                + "\"outbound\":\"out\",\"forwarded\":true,\"network\":\"udp\",\"user_id\":17}",
                text(event));
    }

    @Test
    void keepsEveryMicrosecondDigitWithoutExponent() {
        ConnectionEvent event = new ConnectionEvent(
                Instant.parse("2025-03-01T18:04:11.093528Z"), "n", "n", "e", "ip", "line",
                Instant.parse("2025-03-01T18:10:00.999999Z"), "e", null, null, false, null, null);

        assertEquals("{\"timestamp\":1740852251.093528,\"node_id\":\"n\",\"node_name\":\"n\",\"email\":\"e\","
                + "\"client_ip\":\"ip\",\"raw_line\":\"line\",\"processed_at\":1740852600.999999,"
                + "\"username\":\"e\",\"inbound\":null,\"outbound\":null,\"forwarded\":false,\"network\":null,"
                + "\"user_id\":null}",
                text(event));
    }

    @Test
    void escapesControlCharactersAndWritesUtf8() {
        ConnectionEvent event = new ConnectionEvent(Instant.EPOCH, "n", "Zürich \uD83D\uDE80", "e", "ip",
                "tab\there\nnul\u0000 esc\u001b back\\slash \u007f é \uD800 lone", Instant.EPOCH, "e", "in bound",
                "out", false, "tcp", null);

        assertEquals("{\"timestamp\":0.000000,\"node_id\":\"n\",\"node_name\":\"Zürich \uD83D\uDE80\",\"email\":\"e\","
                + "\"client_ip\":\"ip\",\"raw_line\":\"tab\\there\\nnul\\u0000 esc\\u001B back\\\\slash \u007f é ? lone\","
                + "\"processed_at\":0.000000,\"username\":\"e\",\"inbound\":\"in bound\",\"outbound\":\"out\","
                + "\"forwarded\":false,\"network\":\"tcp\",\"user_id\":null}", text(event));
    }

    /** A group reuses what repeats (node fields, seconds, processed_at); each event must still read as if alone. */
    @Test
    void aGroupIsWrittenAsEachOfItsEventsAlone() {
        AccessLineParser parser = new AccessLineParser("node-1", "Zürich 1",
                LogZone.fixed(ZoneOffset.UTC, Clock.systemUTC()),
                Clock.fixed(Instant.parse("2025-03-01T18:10:00.5Z"), ZoneOffset.UTC));
        String rest = " from 198.51.100.23:40112 accepted tcp:a:443 [in >> out] email: ";
        ParsedLines group = parser.parseAll(List.of(
                "2025/03/01 18:04:11.000001" + rest + "1.a",
                "2025/03/01 18:04:11.999999" + rest + "2.b",
                "2025/03/01 18:04:12" + rest + "3.c",
                "2025/03/01 18:04:12.5 rejected",
                "2025/03/01 18:04:11.5" + rest + "4.d",
                "2025/03/01 18:10:00.5" + rest + "5.e"));
        List<byte[]> encoded = json.encode(group);
        assertEquals(5, encoded.size());
        for (int i = 0; i < encoded.size(); i++) {
            assertEquals(new String(new EventJson().encode(group.events().get(i)), StandardCharsets.UTF_8),
                    new String(encoded.get(i), StandardCharsets.UTF_8));
        }
    }

    /** Random text of every kind reads back unchanged with an independent JSON parser (Jackson). */
    @Test
    void anyTextReadsBackUnchanged() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        Random random = new Random(20261124);
        for (int round = 0; round < 5_000; round++) {
            String line = randomText(random);
            String email = randomText(random);
            ConnectionEvent event = randomEvent(random, line, email);
            JsonNode read = mapper.readTree(json.encode(event));
            assertEquals(line, read.get("raw_line").asText());
            assertEquals(email, read.get("email").asText());
            assertEquals(event.inbound(), read.get("inbound").isNull() ? null : read.get("inbound").asText());
            assertEquals(event.timestamp(), Instant.ofEpochSecond(read.get("timestamp").decimalValue().longValue(),
                    read.get("timestamp").decimalValue().remainder(java.math.BigDecimal.ONE).movePointRight(9)
                            .longValueExact()));
        }
    }

    /**
     * The same bytes as Jackson writes for the same fields in the same order, with numbers as plain decimals and
     * characters beyond the BMP as UTF-8 (Jackson's default writes them as two escaped surrogates).
     */
    @Test
    void writesExactlyWhatJacksonWritesForTheSameObject() throws IOException {
        ObjectMapper jackson = JsonMapper.builder().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
                .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();
        Random random = new Random(7);
        AccessLineParser parser = new AccessLineParser("node-1", "Zürich 1",
                LogZone.fixed(ZoneOffset.UTC, Clock.systemUTC()),
                Clock.fixed(Instant.parse("2025-03-01T18:10:00.5Z"), ZoneOffset.UTC));
        List<ConnectionEvent> events = new ArrayList<>(parser.parseAll(AccessLines.FORMAT_NOTE_EXAMPLES).events());
        for (int round = 0; round < 2_000; round++) {
            events.add(randomEvent(random, randomText(random), randomText(random)));
        }
        for (ConnectionEvent event : events) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("timestamp", seconds(event.timestamp()));
            fields.put("node_id", event.nodeId());
            fields.put("node_name", event.nodeName());
            fields.put("email", event.email());
            fields.put("client_ip", event.clientIp());
            fields.put("raw_line", event.rawLine());
            fields.put("processed_at", seconds(event.processedAt()));
            fields.put("username", event.username());
            fields.put("inbound", event.inbound());
            fields.put("outbound", event.outbound());
            fields.put("forwarded", event.forwarded());
            fields.put("network", event.network());
            fields.put("user_id", event.userId());
            assertEquals(new String(jackson.writeValueAsBytes(fields), StandardCharsets.UTF_8), text(event));
        }
    }

    private static BigDecimal seconds(Instant time) {
        return BigDecimal.valueOf(time.getEpochSecond()).add(BigDecimal.valueOf(time.getNano() / 1_000, 6));
    }

    private static ConnectionEvent randomEvent(Random random, String line, String email) {
        String[] tags = {null, "VLESS TCP REALITY", "DIRECT", randomText(random)};
        String[] networks = {"tcp", "udp", null};
        return new ConnectionEvent(Instant.ofEpochSecond(random.nextInt(Integer.MAX_VALUE),
                random.nextInt(1_000_000) * 1_000L), "node", "name", email, "203.0.113.9", line,
                Instant.ofEpochSecond(random.nextInt(Integer.MAX_VALUE), random.nextInt(1_000_000) * 1_000L),
                random.nextInt(4) == 0 ? null : randomText(random), tags[random.nextInt(tags.length)],
                tags[random.nextInt(tags.length)], random.nextBoolean(), networks[random.nextInt(networks.length)],
                random.nextBoolean() ? null : random.nextLong(Long.MAX_VALUE));
    }

    private static String randomText(Random random) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(40);
        for (int i = 0; i < length; i++) {
            switch (random.nextInt(5)) {
                case 0 -> text.append((char) random.nextInt(0x20));
                case 1 -> text.append("\"\\/ ".charAt(random.nextInt(4)));
                case 2 -> text.append((char) (0x80 + random.nextInt(0x780)));
                case 3 -> text.appendCodePoint(0x10000 + random.nextInt(0x10000));
                default -> text.append((char) (0x20 + random.nextInt(0x5F)));
            }
        }
        return text.toString();
    }

    private String text(ConnectionEvent event) {
        return new String(json.encode(event), StandardCharsets.UTF_8);
    }
}
