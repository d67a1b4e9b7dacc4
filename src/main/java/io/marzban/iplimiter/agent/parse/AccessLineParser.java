package io.marzban.iplimiter.agent.parse;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Predicate;

/**
 * Parses one line of an Xray or V2Ray access log:
 * {@code <date> <time>[.<frac>] [from ]<source> accepted <net>:<host>:<port>[ [<detour>]][ email: <email>]}.
 *
 * <p>Scanning is hand-written (indexOf/charAt, no regex): every step is one forward or backward
 * pass, so even a multi-megabyte line is read in linear time, and no input makes it throw.
 * Instances can be shared between threads (their state, the last second and the detours read lately, is replaced
 * whole).
 */
public final class AccessLineParser {

    private static final String FROM = "from ";
    private static final String ACCEPTED = "accepted";
    private static final String ACCEPTED_IN_TEXT = " accepted ";
    private static final String EMAIL_MARKER = "email:";
    /** Xray's own DNS queries are logged with this source instead of an address. */
    private static final String DNS_SOURCE = "DNS";
    private static final int MAX_PORT = 65_535;

    private final String nodeId;
    private final String nodeName;
    private final LogZone logZone;
    private final LogTimestamp.Reader timestamps;
    private final Clock clock;
    private final KnownDetours detours = new KnownDetours();

    /**
     * @param nodeId   copied into every event
     * @param nodeName copied into every event
     * @param logZone  time zone of the Xray process, whose local time the log lines carry
     * @param clock    source of {@code processed_at}
     */
    public AccessLineParser(String nodeId, String nodeName, LogZone logZone, Clock clock) {
        this.nodeId = nodeId;
        this.nodeName = nodeName;
        this.logZone = logZone;
        this.timestamps = new LogTimestamp.Reader(logZone::current);
        this.clock = clock;
    }

    /** Parses a group of lines (each without its {@code \n}); never throws for any non-null input. */
    public ParsedLines parseAll(List<String> lines) {
        ParsedLines parsed = new ParsedLines(lines.size());
        Instant processedAt = now(); // one reading for the group: its lines are parsed within microseconds
        for (String line : lines) {
            parsed.add(parse(line, processedAt));
        }
        return parsed;
    }

    /** Parses one line (without its {@code \n}); never throws for any non-null input. */
    public ParsedLine parse(String line) {
        return parse(line, now());
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private ParsedLine parse(String line, Instant processedAt) {
        String text = significantPart(line);
        LogTimestamp timestamp = timestamps.parseAtStart(text);
        if (timestamp == null) {
            // Without a timestamp the shape is unknown; only the keyword can tell a broken access line.
            return text.contains(ACCEPTED_IN_TEXT) ? SkipReason.MALFORMED : SkipReason.NOT_ACCEPTED;
        }
        int sourceStart = timestamp.end() + 1;
        if (text.startsWith(FROM, sourceStart)) {
            sourceStart += FROM.length();
        }
        if (isWordAt(text, sourceStart, ACCEPTED)) {
            return SkipReason.MALFORMED; // the source is missing
        }
        int sourceEnd = sourceEnd(text, sourceStart);
        if (!isWordAt(text, sourceEnd + 1, ACCEPTED)) {
            return SkipReason.NOT_ACCEPTED;
        }
        if (sourceEnd - sourceStart == DNS_SOURCE.length() && text.startsWith(DNS_SOURCE, sourceStart)) {
            return SkipReason.NO_EMAIL;
        }
        // host [hostStart, hostEnd), then ':' and the port up to sourceEnd
        int hostStart = skipTransport(text, sourceStart);
        int hostEnd;
        int portColon;
        if (hostStart < sourceEnd && text.charAt(hostStart) == '[') {
            hostStart++;
            hostEnd = text.indexOf(']', hostStart);
            portColon = hostEnd + 1;
        } else {
            hostEnd = text.indexOf(':', hostStart); // IPv6 is always bracketed: an unbracketed host has no colon
            portColon = hostEnd;
        }
        if (hostEnd <= hostStart || portColon >= sourceEnd || text.charAt(portColon) != ':') {
            return SkipReason.MALFORMED;
        }
        int port = port(text, portColon + 1, sourceEnd);
        if (port < 0) {
            return SkipReason.MALFORMED;
        }
        int destinationStart = sourceEnd + 1 + ACCEPTED.length() + 1;
        int emailMarker = emailMarker(text, destinationStart - 1);
        if (emailMarker < 0) {
            return SkipReason.NO_EMAIL;
        }
        String email = text.substring(emailValueStart(text, emailMarker));
        if (email.isEmpty()) {
            return SkipReason.NO_EMAIL;
        }
        if (email.indexOf(' ') >= 0 || containsControl(email)) {
            return SkipReason.MALFORMED;
        }
        String clientIp = IpAddressText.canonical(text, hostStart, hostEnd);
        if (clientIp == null) {
            return notAnAddress(text.substring(hostStart, hostEnd));
        }
        Detour detour = detour(text, destinationStart, emailMarker);
        return new ConnectionEvent(timestamp.instant(), nodeId, nodeName, email, clientIp, text, processedAt,
                username(email), detour.inbound(), detour.outbound(), port == 0, network(text, destinationStart),
                userId(email));
    }

    /**
     * Tells the lines stamped at or after {@code since} (at whole-second precision, as some Xray versions write whole
     * seconds), in the zone set or learned (none while auto has learned none); a line without a valid timestamp is
     * not.
     */
    public Predicate<String> stampedSince(Instant since) {
        long sinceSecond = since.getEpochSecond();
        LogTimestamp.Reader sureReading = new LogTimestamp.Reader(logZone::sureOfSince);
        return line -> {
            LogTimestamp timestamp = sureReading.parseAtStart(significantPart(line));
            return timestamp != null && timestamp.epochSecond() >= sinceSecond;
        };
    }

    /**
     * The line without trailing whitespace (CR of CRLF files included) and without the NUL run
     * that a truncated-while-written file leaves in front of the next real line.
     */
    private static String significantPart(String line) {
        int start = 0;
        while (start < line.length() && line.charAt(start) == '\0') {
            start++;
        }
        int end = line.length();
        while (end > start && (Character.isWhitespace(line.charAt(end - 1)) || line.charAt(end - 1) == '\0')) {
            end--;
        }
        return line.substring(start, end);
    }

    /** True if {@code word} starts at {@code index} and is followed by a space or the end of the text. */
    private static boolean isWordAt(String text, int index, String word) {
        int after = index + word.length();
        return text.startsWith(word, index) && (after == text.length() || text.charAt(after) == ' ');
    }

    /**
     * Index of the space (or end of text) after the source that starts at {@code start}. A bracketed
     * address may contain spaces ({@code [Masked IPv4]:40112}), so the search starts at its closing bracket.
     */
    private static int sourceEnd(String text, int start) {
        int scan = skipTransport(text, start);
        if (scan < text.length() && text.charAt(scan) == '[') {
            int close = text.indexOf(']', scan);
            if (close >= 0) {
                scan = close;
            }
        }
        int space = text.indexOf(' ', scan);
        return space < 0 ? text.length() : space;
    }

    /** Index after a {@code tcp:} or {@code udp:} prefix, which mux, XUDP, socks and tun sources carry. */
    private static int skipTransport(String text, int start) {
        return text.startsWith("tcp:", start) || text.startsWith("udp:", start) ? start + 4 : start;
    }

    /**
     * Why a source host is not an address: a control character or a stray bracket means the line is broken; any
     * other text (masked, redacted, a host name, a word) is readable, just not an address.
     */
    private static SkipReason notAnAddress(String host) {
        if (containsControl(host) || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
            return SkipReason.MALFORMED;
        }
        return IpAddressText.isMasked(host) ? SkipReason.MASKED_ADDRESS : SkipReason.NOT_AN_IP;
    }

    /** The port {@code text[start, end)}, or -1 if it is not one. */
    private static int port(String text, int start, int end) {
        if (start == end || end - start > 5) {
            return -1;
        }
        int port = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port <= MAX_PORT ? port : -1;
    }

    /**
     * Index of the email marker, or -1 if the line has none. The email is the last field, so the last marker wins
     * even if a detour tag contains the same text. Current Xray writes {@code " email: x"}, V2Ray 4 and Xray 1.0
     * {@code " email:x "}; the marker must start a field, right after a space or the detour's closing bracket.
     */
    private static int emailMarker(String text, int from) {
        int marker = text.lastIndexOf(EMAIL_MARKER);
        while (marker >= from) {
            char before = text.charAt(marker - 1);
            if (before == ' ' || before == ']') {
                return marker;
            }
            marker = text.lastIndexOf(EMAIL_MARKER, marker - 1);
        }
        return -1;
    }

    /** Index of the email value: past the marker and any spaces (the end of the text if there is no value). */
    private static int emailValueStart(String text, int marker) {
        int value = marker + EMAIL_MARKER.length();
        while (value < text.length() && Character.isWhitespace(text.charAt(value))) {
            value++;
        }
        return value;
    }

    /**
     * The panel's user id and username in an email: Marzban, Marzneshin and PasarGuard before 5 write
     * {@code <id>.<username>}, PasarGuard 5 and Remnawave only {@code <id>} (no username); any other email is the
     * username itself.
     */
    private static String username(String email) {
        int digits = leadingDigits(email);
        if (digits == email.length()) {
            return null;
        }
        return carriesId(email, digits) ? email.substring(digits + 1) : email;
    }

    /** The leading number of an email that is {@code <id>} or {@code <id>.<username>}; null for any other. */
    private static Long userId(String email) {
        int digits = leadingDigits(email);
        if (!carriesId(email, digits)) {
            return null;
        }
        long value = 0;
        for (int i = 0; i < digits; i++) {
            value = value * 10 + email.charAt(i) - '0';
        }
        return value;
    }

    /** The email, starting with {@code digits} digits, is {@code <id>} or {@code <id>.<username>}. */
    private static boolean carriesId(String email, int digits) {
        return digits == email.length() || digits > 0 && email.charAt(digits) == '.' && digits < email.length() - 1;
    }

    /** How many digits the email starts with; 0 when more than 18 (no id is that long). */
    private static int leadingDigits(String email) {
        int digits = 0;
        while (digits < email.length() && email.charAt(digits) >= '0' && email.charAt(digits) <= '9') {
            digits++;
        }
        return digits > 18 ? 0 : digits;
    }

    /** {@code tcp} or {@code udp}, from the destination's prefix; null when the line does not say. */
    private static String network(String text, int destinationStart) {
        if (text.startsWith("tcp:", destinationStart)) {
            return "tcp";
        }
        return text.startsWith("udp:", destinationStart) ? "udp" : null;
    }

    /** The {@code [<detour>]} between the destination and the email marker, if there is one. */
    private Detour detour(String text, int destinationStart, int emailMarker) {
        int open = text.indexOf(' ', destinationStart) + 1;
        int close = emailMarker - 1;
        while (close > open && text.charAt(close) == ' ') {
            close--;
        }
        if (open <= 0 || open >= close || text.charAt(open) != '[' || text.charAt(close) != ']') {
            return Detour.NONE;
        }
        return detours.of(text, open + 1, close);
    }

    /** Control characters (tab, NUL, ...) in an address or email mean the line is corrupt. */
    private static boolean containsControl(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                return true;
            }
        }
        return false;
    }
}
