package io.marzban.iplimiter.ship;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.parse.AccessLineParser;
import io.marzban.iplimiter.parse.ConnectionEvent;
import io.marzban.iplimiter.parse.ParsedLines;
import java.io.IOException;
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
                "2025/03/01 18:04:11.000001 from [2001:db8:41::9]:40112 accepted tcp:a:443 [\"q\" >> out] email: 17.maria",
                Instant.ofEpochSecond(1_740_852_600L));

        assertEquals("{\"timestamp\":1740852251.000001,\"node_id\":\"node-1\",\"node_name\":\"Frankfurt 1\","
                + "\"email\":\"17.maria\",\"client_ip\":\"2001:db8:41::9\","
                + "\"raw_line\":\"2025/03/01 18:04:11.000001 from [2001:db8:41::9]:40112 accepted tcp:a:443 "
                + "[\\\"q\\\" >> out] email: 17.maria\","
                + "\"processed_at\":1740852600.000000}",
                text(event));
    }

    @Test
    void keepsEveryMicrosecondDigitWithoutExponent() {
        ConnectionEvent event = new ConnectionEvent(
                Instant.parse("2025-03-01T18:04:11.093528Z"), "n", "n", "e", "ip", "line",
                Instant.parse("2025-03-01T18:10:00.999999Z"));

        assertEquals("{\"timestamp\":1740852251.093528,\"node_id\":\"n\",\"node_name\":\"n\",\"email\":\"e\","
                + "\"client_ip\":\"ip\",\"raw_line\":\"line\",\"processed_at\":1740852600.999999}",
                text(event));
    }

    @Test
    void escapesControlCharactersAndWritesUtf8() {
        ConnectionEvent event = new ConnectionEvent(Instant.EPOCH, "n", "Zürich \uD83D\uDE80", "e", "ip",
                "tab\there\nnul\u0000 back\\slash \u007f é \uD800 lone", Instant.EPOCH);

        assertEquals("{\"timestamp\":0.000000,\"node_id\":\"n\",\"node_name\":\"Zürich \uD83D\uDE80\",\"email\":\"e\","
                + "\"client_ip\":\"ip\",\"raw_line\":\"tab\\there\\nnul\\u0000 back\\\\slash \u007f é ? lone\","
                + "\"processed_at\":0.000000}", text(event));
    }

    /** A group reuses what repeats (node fields, seconds, processed_at); each event must still read as if alone. */
    @Test
    void aGroupIsWrittenAsEachOfItsEventsAlone() {
        AccessLineParser parser = new AccessLineParser("node-1", "Zürich 1", ZoneOffset.UTC,
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
            ConnectionEvent event = new ConnectionEvent(Instant.ofEpochSecond(random.nextInt(Integer.MAX_VALUE),
                    random.nextInt(1_000_000) * 1_000L), "node", "name", email, "203.0.113.9", line, Instant.EPOCH);
            JsonNode read = mapper.readTree(json.encode(event));
            assertEquals(line, read.get("raw_line").asText());
            assertEquals(email, read.get("email").asText());
            assertEquals(event.timestamp(), Instant.ofEpochSecond(read.get("timestamp").decimalValue().longValue(),
                    read.get("timestamp").decimalValue().remainder(java.math.BigDecimal.ONE).movePointRight(9)
                            .longValueExact()));
        }
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
