package io.marzban.iplimiter.agent.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AccessLineParserTest {

    private static final Instant NOW = Instant.parse("2025-03-01T18:10:00.123456789Z");
    private static final String MIB_FILLER = "x".repeat(1 << 20);

    private final AccessLineParser parser =
            new AccessLineParser("node-1", "Frankfurt 1",
                    LogZone.fixed(ZoneOffset.UTC, Clock.systemUTC()), Clock.fixed(NOW, ZoneOffset.UTC));

    private ConnectionEvent event(String line) {
        return assertInstanceOf(ConnectionEvent.class, parser.parse(line));
    }

    private void assertEvent(String line, String email, String clientIp, String utcTime) {
        ConnectionEvent event = event(line);
        assertEquals(email, event.email(), "email");
        assertEquals(clientIp, event.clientIp(), "client_ip");
        assertEquals(Instant.parse(utcTime), event.timestamp(), "timestamp");
    }

    // --- the examples of the format note ---

    @Test
    void currentXrayLineWithFromAndMicroseconds() {
        String line = "2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:www.example.com:443 "
                + "[VLESS TCP REALITY >> DIRECT] email: 17.maria";
        ConnectionEvent event = event(line);
        assertEquals(new ConnectionEvent(Instant.parse("2025-03-01T18:04:11.093528Z"), "node-1", "Frankfurt 1",
                "17.maria", "198.51.100.23", line, Instant.parse("2025-03-01T18:10:00.123456Z"), "maria",
                "VLESS TCP REALITY", "DIRECT", false, "tcp", 17L), event);
    }

    @Test
    void tcpPrefixedSourceWithRuleDetourAndDottedUsername() {
        assertEvent("2025/03/01 18:04:11.204117 from tcp:203.0.113.80:5531 accepted udp:192.0.2.53:53 "
                        + "[VLESS TCP REALITY -> BLOCK] email: 3.ivan.petrov",
                "3.ivan.petrov", "203.0.113.80", "2025-03-01T18:04:11.204117Z");
    }

    @Test
    void bracketedIpv6SourceWithoutFraction() {
        assertEvent("2024/10/02 07:15:00 from [2001:db8:41::9]:40112 accepted tcp:api.example.org:443 "
                        + "[vmess-ws >> direct] email: 5.olga",
                "5.olga", "2001:db8:41::9", "2024-10-02T07:15:00Z");
    }

    @Test
    void forwardedForSourceWithPortZero() {
        assertEvent("2024/10/02 07:15:02 from 192.0.2.77:0 accepted tcp:198.51.100.9:443 [vless-grpc >> IPv4] email: 8.kim",
                "8.kim", "192.0.2.77", "2024-10-02T07:15:02Z");
    }

    @Test
    void olderXrayWithoutFrom() {
        assertEvent("2023/06/11 22:40:19 203.0.113.5:61200 accepted tcp:cdn.example.net:443 [TROJAN -> direct] email: 12.lee",
                "12.lee", "203.0.113.5", "2023-06-11T22:40:19Z");
    }

    @Test
    void v2rayEmailWithoutSpaceAfterColonAndWithTrailingSpace() {
        String line = "2022/02/08 09:01:44 198.51.100.4:3321 accepted tcp:example.com:80 [direct] email:4.sam ";
        ConnectionEvent event = event(line);
        assertEquals("4.sam", event.email());
        assertEquals("198.51.100.4", event.clientIp());
        assertEquals(Instant.parse("2022-02-08T09:01:44Z"), event.timestamp());
        assertEquals(line.stripTrailing(), event.rawLine());
    }

    @Test
    void rejectedLineIsNotAccepted() {
        assertEquals(SkipReason.NOT_ACCEPTED, parser.parse(
                "2025/03/01 18:05:00.000001 from 203.0.113.9:4000 rejected  proxy/vless/encoding: invalid request user id"));
    }

    @Test
    void dnsAnswerLineIsNotAccepted() {
        assertEquals(SkipReason.NOT_ACCEPTED, parser.parse(
                "2025/03/01 18:05:00.120000 DOHL//dns.example got answer: www.example.com -> [192.0.2.10] 3.1ms"));
    }

    @Test
    void acceptedLineWithoutEmail() {
        assertEquals(SkipReason.NO_EMAIL,
                parser.parse("2025/03/01 18:05:01 from 127.0.0.1:51000 accepted tcp:127.0.0.1:0 [api -> api]"));
    }

    // --- source forms ---

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "198.51.100.23:40112         | 198.51.100.23",
            "[2001:db8:41::9]:40112      | 2001:db8:41::9",
            "tcp:198.51.100.23:40112     | 198.51.100.23",
            "udp:198.51.100.23:40112     | 198.51.100.23",
            "tcp:[2001:db8::9]:40112     | 2001:db8::9",
            "udp:[2001:db8::9]:0         | 2001:db8::9",
            "192.0.2.77:0                | 192.0.2.77",
            "127.0.0.1:0                 | 127.0.0.1",
            "127.0.0.1:65535             | 127.0.0.1",
            "[::ffff:198.51.100.7]:40112 | 198.51.100.7",
            "[2001:DB8:41:0:0:0:0:9]:1   | 2001:db8:41::9",
            "[fe80::1%eth0]:40112        | fe80::1",
            "tcp:[::1]:40112             | ::1",
    })
    void sourceForms(String source, String clientIp) {
        assertEvent("2025/03/01 18:04:11.093528 from " + source + " accepted tcp:www.example.com:443 [in >> out] email: 17.maria",
                "17.maria", clientIp, "2025-03-01T18:04:11.093528Z");
        assertEvent("2025/03/01 18:04:11 " + source + " accepted tcp:www.example.com:443 email: 17.maria",
                "17.maria", clientIp, "2025-03-01T18:04:11Z");
    }

    @Test
    void xrayOwnDnsQueryHasNoUser() {
        assertEquals(SkipReason.NO_EMAIL, parser.parse("2025/03/01 18:04:11.093528 from DNS accepted udp:1.1.1.1:53 [dns-out]"));
        assertEquals(SkipReason.NO_EMAIL, parser.parse("2025/03/01 18:04:11 DNS accepted udp:1.1.1.1:53"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "2025/03/01 18:04:11 from  accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11  accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23: accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from :40112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:65536 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:123456 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:4o112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 2001:db8::9:40112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from [2001:db8::9:40112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from []:40112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from [2001:db8::9]40112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from tcp: accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from DNS:x accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from [[]:1 accepted tcp:example.com:443 email: 17.maria", // found by the fuzz test
            "2025/03/01 18:04:11 from a]b:1 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.\t.23:1 accepted tcp:example.com:443 email: 17.maria",
    })
    void unreadableSourceIsMalformed(String line) {
        assertEquals(SkipReason.MALFORMED, parser.parse(line));
    }

    // --- sources that are no address ---

    @ParameterizedTest
    @ValueSource(strings = {"203.0.*.*:40112", "203.0.113.*:40112", "203.*.*.*:1", "[Masked IPv4]:40112",
        "[Masked IPv6]:40112", "tcp:[Masked IPv6]:40112", "[2001:db8::/64]:40112", "udp:203.0.*.*:0"})
    void everyFormOfXraysMaskAddressIsNotAnIpAndTellsItIsMasked(String source) {
        assertEquals(SkipReason.MASKED_ADDRESS, parser.parse("2025/03/01 18:04:11.093528 from " + source
                + " accepted tcp:www.example.com:443 [in >> out] email: 17.maria"));
        assertEquals("not_an_ip", SkipReason.MASKED_ADDRESS.toString(), "counted under the same reason");
    }

    @ParameterizedTest
    @ValueSource(strings = {"xx.xx.xx.xx:1234", "redacted:1234", "IP:40112", "client.example.com:443",
        "localhost:1", "[tcp:2001:db8::9]:40112", "[2001:db8::g]:1", "1.2.3:4", "1.2.3.4.5:6", "256.1.1.1:1",
        "01.2.3.4:5", "[::1%]:5", "[2001:db8::1::2]:1", "[12345::]:1", "0x7f.0.0.1:1", "١.٢.٣.٤:1"})
    void aSourceThatIsNoAddressIsNotAnIp(String source) {
        assertEquals(SkipReason.NOT_AN_IP, parser.parse("2025/03/01 18:04:11 from " + source
                + " accepted tcp:www.example.com:443 [in >> out] email: 17.maria"), source);
    }

    // --- the fields a limiter needs ---

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "null", value = {
        // the format note's examples
        "2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:www.example.com:443 [VLESS TCP REALITY >> DIRECT] email: 17.maria | maria | VLESS TCP REALITY | DIRECT | false | tcp",
        "2025/03/01 18:04:11.204117 from tcp:203.0.113.80:5531 accepted udp:192.0.2.53:53 [VLESS TCP REALITY -> BLOCK] email: 3.ivan.petrov | ivan.petrov | VLESS TCP REALITY | BLOCK | false | udp",
        "2024/10/02 07:15:00 from [2001:db8:41::9]:40112 accepted tcp:api.example.org:443 [vmess-ws >> direct] email: 5.olga | olga | vmess-ws | direct | false | tcp",
        "2024/10/02 07:15:02 from 192.0.2.77:0 accepted tcp:198.51.100.9:443 [vless-grpc >> IPv4] email: 8.kim | kim | vless-grpc | IPv4 | true | tcp",
        "2023/06/11 22:40:19 203.0.113.5:61200 accepted tcp:cdn.example.net:443 [TROJAN -> direct] email: 12.lee | lee | TROJAN | direct | false | tcp",
        "2022/02/08 09:01:44 198.51.100.4:3321 accepted tcp:example.com:80 [direct] email:4.sam  | sam | null | direct | false | tcp",
        // the other separator, no detour, an empty tag, the old email form right after the bracket
        "2025/03/01 18:04:11 from 1.2.3.4:5 accepted tcp:a:1 [in ==> forced out] email: 7.x | x | in | forced out | false | tcp",
        "2025/03/01 18:04:11 from 1.2.3.4:5 accepted udp:a:1 email: 7.x | x | null | null | false | udp",
        "2025/03/01 18:04:11 from 1.2.3.4:0 accepted tcp:a:1 [ >> out] email: 7.x | x | null | out | true | tcp",
        "2025/03/01 18:04:11 from 1.2.3.4:5 accepted tcp:a:1 [in >> out]email:7.x | x | in | out | false | tcp",
        "2025/03/01 18:04:11 from 1.2.3.4:5 accepted tcp:a:1 [email: x -> y] email: 7.x | x | email: x | y | false | tcp",
        // a destination without a network prefix
        "2025/03/01 18:04:11 from 1.2.3.4:5 accepted //a:1 [in -> out] email: 7.x | x | in | out | false | null",
    })
    void fieldsForTheLimiter(String line, String username, String inbound, String outbound, boolean forwarded,
                             String network) {
        ConnectionEvent event = event(line);
        assertEquals(username, event.username(), "username");
        assertEquals(inbound, event.inbound(), "inbound");
        assertEquals(outbound, event.outbound(), "outbound");
        assertEquals(forwarded, event.forwarded(), "forwarded");
        assertEquals(network, event.network(), "network");
    }

    /** An empty cell is null: an email that is only a number has no username; one without a leading number no id. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"17.maria | maria | 17", "3.ivan.petrov | ivan.petrov | 3",
        "alice@example.com | alice@example.com |", "42 | | 42", "17. | 17. |", ".x | .x |", "a1.b | a1.b |",
        "0.z | z | 0", "1234567890123456789.x | 1234567890123456789.x |", "123456789012345678 | | 123456789012345678",
        "007.bond | bond | 7"})
    void theEmailGivesThePanelsUserIdAndUsername(String email, String username, Long userId) {
        ConnectionEvent event = event("2025/03/01 18:04:11 1.2.3.4:5 accepted tcp:a:1 email: " + email);
        assertEquals(username, event.username(), "username");
        assertEquals(userId, event.userId(), "user_id");
    }

    @Test
    void linesThatShareADetourShareItsTags() {
        String rest = " from 1.2.3.4:5 accepted tcp:a:1 [VLESS TCP REALITY >> DIRECT] email: 7.x";
        ConnectionEvent first = event("2025/03/01 18:04:11" + rest);
        ConnectionEvent second = event("2025/03/01 18:04:12" + rest);
        assertTrue(first.inbound() == second.inbound() && first.outbound() == second.outbound(), "no new strings");
        assertEquals("DIRECT", event("2025/03/01 18:04:13 from 1.2.3.4:5 accepted tcp:a:1 [DIRECT] email: 7.x").outbound());
        assertEquals("VLESS TCP REALITY", event("2025/03/01 18:04:14" + rest).inbound());
    }

    // --- email field ---

    @ParameterizedTest
    @ValueSource(strings = {
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email:17.maria ",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out]email:17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 email:   17.maria  \t ",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email: 17.maria\r",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email: 17.maria \t\r",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [VLESS TCP REALITY >> DIRECT] email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in -> out] email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in ==> out] email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [DIRECT] email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:[2001:db8::443]:443 [DIRECT] email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:email:443 [email: x -> y] email: 17.maria",
    })
    void emailForms(String line) {
        ConnectionEvent event = event(line);
        assertEquals("17.maria", event.email());
        assertEquals("198.51.100.23", event.clientIp());
    }

    @Test
    void emailsFromOtherPanelsAreKeptAsWritten() {
        assertEquals("alice@example.com", event("2025/03/01 18:04:11 1.2.3.4:5 accepted tcp:a:1 email: alice@example.com").email());
        assertEquals("42", event("2025/03/01 18:04:11 1.2.3.4:5 accepted tcp:a:1 email: 42").email());
        assertEquals("x.email:y", event("2025/03/01 18:04:11 1.2.3.4:5 accepted tcp:a:1 email: x.email:y").email());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out]",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email:",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email: ",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> out] email:  \t\r",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:example.com:443 [in >> myemail:out]",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted",
    })
    void acceptedLinesWithoutEmail(String line) {
        assertEquals(SkipReason.NO_EMAIL, parser.parse(line));
    }

    @Test
    void emailWithInnerWhitespaceIsMalformed() {
        assertEquals(SkipReason.MALFORMED,
                parser.parse("2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria extra"));
        assertEquals(SkipReason.MALFORMED,
                parser.parse("2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria\textra"));
    }

    // --- timestamps ---

    @ParameterizedTest
    @CsvSource({
            "2025/03/01 18:04:11.5,          2025-03-01T18:04:11.500Z",
            "2025/03/01 18:04:11.000001,     2025-03-01T18:04:11.000001Z",
            "2025/03/01 18:04:11.123456789,  2025-03-01T18:04:11.123456Z",
            "2024/02/29 23:59:59.999999,     2024-02-29T23:59:59.999999Z",
            "1970/01/01 00:00:00,            1970-01-01T00:00:00Z",
            "2025/12/31 00:00:00.1234,       2025-12-31T00:00:00.123400Z",
    })
    void timestampFractionsKeepMicroseconds(String stamp, String utcTime) {
        assertEvent(stamp + " from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria",
                "17.maria", "198.51.100.23", utcTime);
    }

    @Test
    void timestampIsLocalTimeOfTheLogZone() {
        AccessLineParser moscow = new AccessLineParser("node-1", "Frankfurt 1",
                LogZone.fixed(ZoneId.of("Europe/Moscow"), Clock.systemUTC()),
                Clock.fixed(NOW, ZoneOffset.UTC));
        ParsedLine parsed = moscow.parse("2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria");
        assertEquals(Instant.parse("2025-03-01T15:04:11.093528Z"), assertInstanceOf(ConnectionEvent.class, parsed).timestamp());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "2025/02/30 18:04:11",
            "2025/02/29 18:04:11",
            "2025/04/31 18:04:11",
            "2025/13/01 18:04:11",
            "2025/00/01 18:04:11",
            "2025/03/00 18:04:11",
            "2025/03/01 24:00:00",
            "2025/03/01 18:60:11",
            "2025/03/01 18:04:60",
            "1969/12/31 23:59:59",
            "2025/03/01 18:04:11.",
            "2025/03/01 18:04:11.1234567890",
            "2025/03/01 18:04:11.09352a",
            "2025-03-01 18:04:11",
            "2025/03/01T18:04:11",
            "2025/3/1 18:04:11",
            "２０２５/03/01 18:04:11",
    })
    void invalidTimestampOnAcceptedLineIsMalformed(String stamp) {
        assertEquals(SkipReason.MALFORMED,
                parser.parse(stamp + " from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria"));
    }

    @Test
    void invalidTimestampOnRejectedLineIsNotAccepted() {
        assertEquals(SkipReason.NOT_ACCEPTED,
                parser.parse("2025/02/30 18:05:00 from 203.0.113.9:4000 rejected  proxy/vless/encoding: invalid request user id"));
    }

    // --- everything else a real file holds ---

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "   ",
            "\r",
            "\t \r",
            "2025/03/01 18:04:11 [Warning] core: Xray 25.1.30 started",
            "2025/03/01 18:04:11.093528 [Info] [1234567] app/dispatcher: taking detour [direct] for [tcp:example.com:443]",
            "2025/03/01 18:04:11 [Error] app/proxyman/inbound: connection accepted by nobody",
            "2025/03/01 18:04:11",
            "2025/03/01 18:04:11 from 198.51.100.23:40112",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 acceptedx tcp:a:443 email: 17.maria",
            "2025/03/01 18:04:11 from 198.51.100.23:40112 rejected  reason that was accepted elsewhere",
            "Xray 25.1.30 (Xray, Penetrates Everything.) Custom (go1.23.5 linux/amd64)",
            "\uFFFD\uFFFD\uFFFD garbage \uFFFD",
            "\0\0\0\0\0\0",
            "accepted",
    })
    void nonAccessLinesAreNotAccepted(String line) {
        assertEquals(SkipReason.NOT_ACCEPTED, parser.parse(line));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "hello accepted world",
            "8:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria",
            "\uFFFD025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria",
            "  2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria",
    })
    void garbageWithAcceptedKeywordIsMalformed(String line) {
        assertEquals(SkipReason.MALFORMED, parser.parse(line));
    }

    @Test
    void crlfAndTrailingWhitespaceAreNotPartOfRawLine() {
        String line = "2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:a:443 [in >> out] email: 17.maria";
        assertEquals(line, event(line + "\r").rawLine());
        assertEquals(line, event(line + " \t \r").rawLine());
        assertEquals(line, event(line).rawLine());
    }

    @Test
    void nulRunLeftByTruncationIsSkipped() {
        String line = "2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria";
        ConnectionEvent event = event("\0".repeat(4096) + line);
        assertEquals(line, event.rawLine());
        assertEquals("17.maria", event.email());
        assertEquals(line, event(line + "\0\0").rawLine());
    }

    @Test
    void nulOrReplacementCharactersInsideTheLine() {
        assertEquals(SkipReason.MALFORMED,
                parser.parse("2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.ma\0ria"));
        assertEquals(SkipReason.MALFORMED,
                parser.parse("2025/03/01 18:04:11 from 198.51.\0.23:40112 accepted tcp:a:443 email: 17.maria"));
        assertEquals("17.maria",
                event("2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:\uFFFD\0:443 [\uFFFD] email: 17.maria").email());
        assertEquals("17.ma\uFFFDria",
                event("2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.ma\uFFFDria").email());
    }

    @Test
    void mebibyteLines() {
        assertEquals(SkipReason.NOT_ACCEPTED, parser.parse(MIB_FILLER));
        assertEquals(SkipReason.NOT_ACCEPTED, parser.parse("2025/03/01 18:04:11 " + MIB_FILLER));
        assertEquals(SkipReason.NOT_ACCEPTED, parser.parse("2025/03/01 18:04:11 [" + MIB_FILLER));
        assertEquals(SkipReason.MALFORMED, parser.parse("2025/03/01 18:04:11 " + " accepted".repeat(100_000)));
        assertEquals(SkipReason.MALFORMED, parser.parse(MIB_FILLER + " accepted " + MIB_FILLER));
        assertEquals(SkipReason.MALFORMED,
                parser.parse("2025/03/01 18:04:11 from " + MIB_FILLER + " accepted tcp:a:443 email: 17.maria"));
        assertEquals(SkipReason.NO_EMAIL, parser.parse(
                "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 " + "xemail:".repeat(150_000)));

        String longDetour = "2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 ["
                + "in >> out ".repeat(100_000) + "] email: 17.maria";
        ConnectionEvent event = event(longDetour);
        assertEquals("17.maria", event.email());
        assertEquals(longDetour, event.rawLine());
    }

    @Test
    void eventCarriesNodeAndMicrosecondProcessingTime() {
        ConnectionEvent event = event("2025/03/01 18:04:11 from 198.51.100.23:40112 accepted tcp:a:443 email: 17.maria");
        assertEquals("node-1", event.nodeId());
        assertEquals("Frankfurt 1", event.nodeName());
        assertEquals(Instant.parse("2025-03-01T18:10:00.123456Z"), event.processedAt());
    }

    @Test
    void skipReasonsPrintAsMetricTags() {
        assertEquals("not_accepted", SkipReason.NOT_ACCEPTED.toString());
        assertEquals("no_email", SkipReason.NO_EMAIL.toString());
        assertEquals("malformed", SkipReason.MALFORMED.toString());
        assertEquals("not_an_ip", SkipReason.NOT_AN_IP.toString());
    }

    @Test
    void tellsLinesStampedSinceAnInstantAtWholeSecondsInTheLogZone() {
        AccessLineParser moscow = new AccessLineParser("node-1", "Frankfurt 1",
                LogZone.fixed(ZoneId.of("Europe/Moscow"), Clock.systemUTC()),
                Clock.fixed(NOW, ZoneOffset.UTC));
        var since = moscow.stampedSince(Instant.parse("2025-03-01T18:04:11.700Z")); // 21:04:11.7 in Moscow
        String rest = " from 198.51.100.23:50234 accepted tcp:www.google.com:443 [VLESS_TCP_REALITY >> DIRECT] email: 17.maria";
        assertTrue(since.test("2025/03/01 21:04:11.093528" + rest), "the same second counts (some logs have no fraction)");
        assertTrue(since.test("2025/03/01 21:04:11" + rest));
        assertTrue(since.test("2025/03/01 21:05:00 Xray started"), "any line with a timestamp");
        assertFalse(since.test("2025/03/01 21:04:10.999999" + rest));
        assertFalse(since.test("2025/03/01 18:04:12" + rest), "a UTC stamp is hours earlier in Moscow time");
        assertFalse(since.test("garbage"));
        assertFalse(since.test(""));
    }

    @Test
    void aTimeBeforeTheEpochInTheLogZoneIsMalformed() {
        AccessLineParser moscow = new AccessLineParser("node-1", "Frankfurt 1",
                LogZone.fixed(ZoneId.of("Europe/Moscow"), Clock.systemUTC()),
                Clock.fixed(NOW, ZoneOffset.UTC));
        String rest = " from 198.51.100.23:50234 accepted tcp:www.google.com:443 [in >> out] email: 17.maria";
        assertEquals(SkipReason.MALFORMED, moscow.parse("1970/01/01 02:59:59.999999" + rest));
        ConnectionEvent event = assertInstanceOf(ConnectionEvent.class, moscow.parse("1970/01/01 03:00:00" + rest));
        assertEquals(Instant.EPOCH, event.timestamp());
    }
}
