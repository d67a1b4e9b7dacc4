package io.marzban.iplimiter.agent.ship;

import io.marzban.iplimiter.agent.parse.ConnectionEvent;
import io.marzban.iplimiter.agent.parse.ParsedLines;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes each event as one JSON object, straight to UTF-8 bytes (the list element's format is in
 * docs/CONFIGURATION.md): no object mapper and no intermediate text, since this runs once per shipped line.
 * Times are epoch seconds with exactly six fractional digits, e.g. {@code 1740852251.093528}: a double would lose
 * the last microsecond digit and may print in exponent notation.
 *
 * <p>What repeats from event to event is written once and copied after: the node's fields (the same for every
 * event), the {@code processed_at} of a group (one reading per group), the digits of the last whole second, the
 * detours' inbound and outbound fields, and the closing fields.
 */
public final class EventJson {

    private static final byte[] HEX = ascii("0123456789ABCDEF"); // upper case, as Jackson writes them
    private static final byte[] TIMESTAMP = ascii("{\"timestamp\":");
    private static final byte[] NODE_ID = ascii(",\"node_id\":");
    private static final byte[] NODE_NAME = ascii(",\"node_name\":");
    private static final byte[] EMAIL = ascii(",\"email\":");
    private static final byte[] CLIENT_IP = ascii(",\"client_ip\":");
    private static final byte[] RAW_LINE = ascii(",\"raw_line\":");
    private static final byte[] PROCESSED_AT = ascii(",\"processed_at\":");
    private static final byte[] USERNAME = ascii(",\"username\":");
    private static final byte[] INBOUND = ascii(",\"inbound\":");
    private static final byte[] OUTBOUND = ascii(",\"outbound\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[] END = ascii("}");
    private static final byte[] USER_ID = ascii(",\"user_id\":");
    /** The fields forwarded and network, for each value of forwarded (false, true) and network (tcp, udp, null). */
    private static final byte[][][] ENDINGS = {endings(false), endings(true)};
    private static final int MICROS_DIGITS = 6;

    /** The node's two fields and the email's name, as JSON; replaced whole when the node changes (never, in the agent). */
    private volatile NodeFields nodeFields = new NodeFields("", "", new byte[0]);

    private record NodeFields(String nodeId, String nodeName, byte[] json) {
    }

    /** The JSON of the detours written lately (immutable entries, replaced whole: a race costs a duplicate only). */
    private final DetourFields[] detourFields = new DetourFields[16];
    private int nextDetourFields;

    private record DetourFields(String inbound, String outbound, byte[] json) {
    }

    /** The group's events as JSON, in the same order. */
    public List<byte[]> encode(ParsedLines parsed) {
        List<ConnectionEvent> events = parsed.events();
        List<byte[]> encoded = new ArrayList<>(events.size());
        Output out = new Output();
        for (ConnectionEvent event : events) {
            encoded.add(encode(event, out));
        }
        return encoded;
    }

    /** One event as JSON. */
    public byte[] encode(ConnectionEvent event) {
        return encode(event, new Output());
    }

    private byte[] encode(ConnectionEvent event, Output out) {
        out.reset();
        out.raw(TIMESTAMP);
        out.epochSeconds(event.timestamp());
        out.raw(nodeFields(event));
        out.string(event.email());
        out.raw(CLIENT_IP);
        out.string(event.clientIp());
        out.raw(RAW_LINE);
        out.string(event.rawLine());
        out.processedAt(event.processedAt());
        out.stringOrNull(event.username());
        out.raw(detourFields(event.inbound(), event.outbound()));
        out.raw(ENDINGS[event.forwarded() ? 1 : 0][networkIndex(event.network())]);
        out.raw(USER_ID);
        if (event.userId() == null) {
            out.raw(NULL);
        } else {
            out.digits(event.userId(), 1);
        }
        out.raw(END);
        return out.toByteArray();
    }

    /**
     * The inbound and outbound fields as JSON. The parser hands the same tag strings to every line with the same
     * detour, so they are looked up by identity among the few a node has.
     */
    private byte[] detourFields(String inbound, String outbound) {
        for (DetourFields fields : detourFields) {
            if (fields != null && fields.inbound == inbound && fields.outbound == outbound) {
                return fields.json;
            }
        }
        Output out = new Output();
        out.raw(INBOUND);
        out.stringOrNull(inbound);
        out.raw(OUTBOUND);
        out.stringOrNull(outbound);
        byte[] json = out.toByteArray();
        detourFields[nextDetourFields] = new DetourFields(inbound, outbound, json);
        nextDetourFields = (nextDetourFields + 1) % detourFields.length;
        return json;
    }

    private byte[] nodeFields(ConnectionEvent event) {
        NodeFields fields = nodeFields;
        if (!fields.nodeId.equals(event.nodeId()) || !fields.nodeName.equals(event.nodeName())) {
            Output out = new Output();
            out.raw(NODE_ID);
            out.string(event.nodeId());
            out.raw(NODE_NAME);
            out.string(event.nodeName());
            out.raw(EMAIL);
            fields = new NodeFields(event.nodeId(), event.nodeName(), out.toByteArray());
            nodeFields = fields;
        }
        return fields.json;
    }

    private static int networkIndex(String network) {
        if ("tcp".equals(network)) {
            return 0;
        }
        return "udp".equals(network) ? 1 : 2;
    }

    private static byte[][] endings(boolean forwarded) {
        String start = ",\"forwarded\":" + forwarded + ",\"network\":";
        return new byte[][] {ascii(start + "\"tcp\""), ascii(start + "\"udp\""), ascii(start + "null")};
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** A growable byte buffer, reused for every event of a group. */
    private static final class Output {
        private byte[] bytes = new byte[512];
        private int length;
        /** The last whole second written by {@link #epochSeconds}, and its digits. */
        private long second = Long.MIN_VALUE;
        private byte[] secondDigits;
        /** The last {@code processed_at} written, and the JSON from its field name to the username's value. */
        private Instant processedAt;
        private byte[] processedAtToUsername;


        void reset() {
            length = 0;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, length);
        }

        private void room(int more) {
            if (length + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }

        void raw(byte[] part) {
            raw(part, 0, part.length);
        }

        private void raw(byte[] part, int from, int to) {
            room(to - from);
            System.arraycopy(part, from, bytes, length, to - from);
            length += to - from;
        }

        void epochSeconds(Instant time) {
            if (time.getEpochSecond() != second) {
                int start = length;
                digits(time.getEpochSecond(), 1);
                second = time.getEpochSecond();
                secondDigits = Arrays.copyOfRange(bytes, start, length);
                length = start;
            }
            raw(secondDigits);
            room(1);
            bytes[length++] = '.';
            digits(time.getNano() / 1_000, MICROS_DIGITS);
        }

        void processedAt(Instant time) {
            if (!time.equals(processedAt)) {
                int start = length;
                raw(PROCESSED_AT);
                epochSeconds(time);
                raw(USERNAME);
                processedAt = time;
                processedAtToUsername = Arrays.copyOfRange(bytes, start, length);
                length = start;
            }
            raw(processedAtToUsername);
        }

        void stringOrNull(String text) {
            if (text == null) {
                raw(NULL);
            } else {
                string(text);
            }
        }

        /** A non-negative number in decimal, left-padded with zeros to {@code width} digits. */
        private void digits(long value, int width) {
            room(20);
            int count = 1;
            for (long rest = value / 10; rest > 0; rest /= 10) {
                count++;
            }
            count = Math.max(count, width);
            for (int i = length + count - 1; i >= length; i--) {
                bytes[i] = (byte) ('0' + value % 10);
                value /= 10;
            }
            length += count;
        }

        /**
         * A JSON string: the text's UTF-8 bytes with quotes, backslashes and control characters escaped. Those are
         * all ASCII, and no byte of a multi-byte UTF-8 sequence is ASCII, so the bytes can be scanned one by one.
         */
        void string(String text) {
            // Nearly every string here is ASCII, and its ISO-8859-1 bytes are a plain copy of what the String holds;
            // any other character shows as a negative byte or '?' (unmappable), and then the UTF-8 bytes are used
            int start = length;
            if (!quoted(text.getBytes(StandardCharsets.ISO_8859_1), true)) {
                length = start;
                quoted(text.getBytes(StandardCharsets.UTF_8), false); // a lone surrogate becomes '?'
            }
        }

        /**
         * The bytes as a JSON string, with quotes, backslashes and control characters escaped; those are all ASCII,
         * and no byte of a multi-byte UTF-8 sequence is ASCII, so the bytes can be scanned one by one. False, with
         * part written, when {@code asciiOnly} and a byte is not ASCII or is '?'.
         */
        private boolean quoted(byte[] text, boolean asciiOnly) {
            room(text.length + 2);
            bytes[length++] = '"';
            int copied = 0;
            for (int i = 0; i < text.length; i++) {
                byte b = text[i];
                if (asciiOnly && (b < 0 || b == '?')) {
                    return false;
                }
                if (b >= 0 && (b < 0x20 || b == '"' || b == '\\')) {
                    raw(text, copied, i);
                    escape((char) b);
                    copied = i + 1;
                }
            }
            raw(text, copied, text.length);
            room(1);
            bytes[length++] = '"';
            return true;
        }

        private void escape(char c) {
            room(6);
            bytes[length++] = '\\';
            switch (c) {
                case '"', '\\' -> bytes[length++] = (byte) c;
                case '\n' -> bytes[length++] = 'n';
                case '\r' -> bytes[length++] = 'r';
                case '\t' -> bytes[length++] = 't';
                case '\b' -> bytes[length++] = 'b';
                case '\f' -> bytes[length++] = 'f';
                default -> {
                    bytes[length++] = 'u';
                    bytes[length++] = '0';
                    bytes[length++] = '0';
                    bytes[length++] = HEX[c >> 4];
                    bytes[length++] = HEX[c & 0xF];
                }
            }
        }
    }
}
