package io.marzban.iplimiter.agent.parse;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random lines, mostly near-misses of real ones (spliced from the format note's pieces, then mutated),
 * some pure noise. The parser must never throw and every event it returns must be well-formed.
 * {@code -Dfuzz.inputs=N} runs more inputs than CI's default; {@code -Dfuzz.seed=S} another sequence.
 */
class AccessLineParserFuzzTest {

    private static final String[] DATES = {"2025/03/01 18:04:11", "2025/03/01 18:04:11.093528", "2024/02/29 23:59:59",
        "2025/02/30 10:00:00", "9999/12/31 23:59:59", "1969/12/31 23:59:59", "2025/13/01 00:00:00", "2025/03/01",
        "", "2025/03/01 24:00:00.1234567891"};
    private static final String[] SOURCES = {"198.51.100.23:40112", "[2001:db8:41::9]:40112", "tcp:203.0.113.80:5531",
        "udp:198.51.100.23:0", "tcp:[2001:db8::9]:40112", "203.0.*.*:40112", "[Masked IPv4]:40112", "DNS",
        "127.0.0.1:0", "[::1", "host:99999", ":", "[]:1", "a:b:c:1", "", "[2001:DB8:0::9%eth0]:1",
        "[::ffff:198.51.100.7]:2", "xx.xx.xx.xx:1234", "[2001:db8::/64]:40112", "[Masked IPv6]:1", "1.2.3.04:5",
        "[fe80::1%]:1", "[1:2:3:4:5:6:7:8]:9", "[2001:db8::1]:443", "203.0.113.7:1", "tcp:192.0.2.1:53"};
    private static final String[] MIDDLES = {" accepted ", " rejected  ", " got answer: ", " accepted", " ACCEPTED ",
        "  accepted  ", " accepted email: "};
    private static final String[] DESTINATIONS = {"tcp:www.example.com:443", "udp:192.0.2.53:53",
        "tcp:[2001:db8::443]:443", "", "tcp:x"};
    private static final String[] DETOURS = {" [VLESS TCP REALITY >> DIRECT]", " [in -> out]", " [in ==> out]",
        " [DIRECT]", "", " [email: fake]", " [", " ]"};
    private static final String[] EMAILS = {" email: 17.maria", " email:4.sam ", " email: ", " email:", "",
        " email: alice@example.com", " email: a b", " email: \u0000x", " email: \uFFFD.user", " email: x email: y"};
    private static final String[] NOISE = {"\u0000", "\r", "\t", " ", "\uFFFD", "[", "]", ":", "from ", "email:",
        " accepted ", "\u00e9", "\ud83d\ude00", "\\", "\"", "%"};

    private final AccessLineParser parser = new AccessLineParser("node-1", "fuzz",
            LogZone.fixed(ZoneOffset.UTC, Clock.systemUTC()),
            Clock.fixed(Instant.parse("2026-11-24T00:00:00Z"), ZoneOffset.UTC));

    @Test
    void randomLinesNeverBreakTheParser() {
        long inputs = Long.getLong("fuzz.inputs", 200_000);
        Random random = new Random(Long.getLong("fuzz.seed", 20261124));
        long events = 0;
        for (long i = 0; i < inputs; i++) {
            String line = random.nextInt(10) == 0 ? noise(random) : nearMiss(random);
            ParsedLine parsed = parser.parse(line);
            assertNotNull(parsed, line);
            if (parsed instanceof ConnectionEvent event) {
                events++;
                assertWellFormed(event, line);
            }
        }
        assertTrue(events > inputs / 100, "the generator must reach the event path too, got " + events);
    }

    private static void assertWellFormed(ConnectionEvent event, String line) {
        String ip = event.clientIp();
        assertTrue(ip.equals(IpAddressText.canonical(ip, 0, ip.length())), "a canonical address: " + line);
        assertTrue(ip.chars().allMatch(c -> c == '.' || c == ':' || Character.digit(c, 16) >= 0 && c < 128), line);
        assertTrue(event.username() != null || event.userId() != null, "a username, an id or both: " + line);
        assertTrue(event.username() == null || !event.username().isEmpty() && event.email().endsWith(event.username()),
                line);
        assertFalse(event.email().isEmpty(), line);
        assertFalse(event.email().contains(" "), line);
        assertFalse(event.clientIp().isEmpty(), line);
        assertFalse(event.clientIp().startsWith("["), line);
        assertFalse(event.clientIp().startsWith("tcp:") || event.clientIp().startsWith("udp:"), line);
        assertTrue(event.timestamp().getEpochSecond() >= 0, line);
        assertTrue(event.rawLine().length() <= line.length(), line);
    }

    private static String nearMiss(Random random) {
        StringBuilder line = new StringBuilder()
                .append(pick(random, DATES))
                .append(random.nextBoolean() ? " from " : " ")
                .append(pick(random, SOURCES))
                .append(pick(random, MIDDLES))
                .append(pick(random, DESTINATIONS))
                .append(pick(random, DETOURS))
                .append(pick(random, EMAILS));
        int mutations = random.nextInt(4);
        for (int m = 0; m < mutations && line.length() > 0; m++) {
            int at = random.nextInt(line.length());
            switch (random.nextInt(3)) {
                case 0 -> line.insert(at, pick(random, NOISE));
                case 1 -> line.deleteCharAt(at);
                default -> line.setCharAt(at, (char) random.nextInt(0x3000));
            }
        }
        if (random.nextInt(50) == 0) {
            line.append("x".repeat(random.nextInt(100_000))); // long lines stay linear
        }
        return line.toString();
    }

    private static String noise(Random random) {
        StringBuilder line = new StringBuilder();
        int length = random.nextInt(300);
        for (int i = 0; i < length; i++) {
            line.append(random.nextBoolean() ? pick(random, NOISE) : String.valueOf((char) random.nextInt(0xFFFF)));
        }
        return line.toString();
    }

    private static String pick(Random random, String[] choices) {
        return choices[random.nextInt(choices.length)];
    }
}
