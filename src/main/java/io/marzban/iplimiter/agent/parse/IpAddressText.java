package io.marzban.iplimiter.agent.parse;

import java.util.Arrays;

/**
 * Strict reading of an IP address literal, written back in one canonical form: IPv4 as a dotted quad, IPv6 in the
 * RFC 5952 form (lower case, the longest run of zero groups as {@code ::}), no zone, an IPv4-mapped IPv6 address as
 * its IPv4 address. Hand-written rather than {@code InetAddress.getByName}, which looks up anything that is not a
 * literal in DNS, and stricter than the JDK's literal rules ({@code 127.1}, leading zeros): Xray prints addresses
 * with Go's {@code net.IP.String()}, which never writes those forms.
 */
final class IpAddressText {

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final int GROUPS = 8;
    /** The longest literal read: a full IPv4-mapped form (45 characters) with a zone of up to 19. */
    private static final int MAX_LENGTH = 64;

    private IpAddressText() {
    }

    /** The canonical form of {@code line[start, end)}, or null if it is not an IPv4 or IPv6 address. */
    static String canonical(String line, int start, int end) {
        if (end - start > MAX_LENGTH || end <= start) {
            return null;
        }
        // scanned as a char array: per character, String.charAt costs more than the check itself in C1's code
        char[] text = new char[end - start];
        line.getChars(start, end, text, 0);
        int length = text.length;
        if (indexOf(text, ':', length) < 0) {
            return ipv4Bits(text, 0, length) < 0 ? null : line.substring(start, end); // valid IPv4 is canonical
        }
        int zone = indexOf(text, '%', length);
        if (zone >= 0) {
            if (zone == length - 1) {
                return null; // an empty zone
            }
            length = zone;
        }
        int[] groups = ipv6Groups(text, length);
        if (groups == null) {
            return null;
        }
        if (isIpv4Mapped(groups)) {
            return ipv4Text((groups[6] << 16) | groups[7]);
        }
        return ipv6Text(groups);
    }

    /**
     * True for the forms Xray's {@code log.maskAddress} writes in place of an address: {@code 203.0.*.*},
     * {@code Masked IPv4}, {@code Masked IPv6} and a network such as {@code 2001:db8::/64}.
     */
    static boolean isMasked(String host) {
        return host.indexOf('*') >= 0 || host.startsWith("Masked IPv") || host.indexOf('/') > 0
                && canonical(host, 0, host.indexOf('/')) != null;
    }

    /** The 32 bits of a dotted quad with no leading zeros, or -1. */
    private static long ipv4Bits(char[] text, int start, int end) {
        long bits = 0;
        int part = 0;
        int i = start;
        while (part < 4) {
            int digitsStart = i;
            int value = 0;
            while (i < end && i - digitsStart < 3 && isDigit(text[i])) {
                value = value * 10 + (text[i] - '0');
                i++;
            }
            int digits = i - digitsStart;
            if (digits == 0 || value > 255 || digits > 1 && text[digitsStart] == '0') {
                return -1;
            }
            bits = bits << 8 | value;
            part++;
            if (part < 4) {
                if (i >= end || text[i] != '.') {
                    return -1;
                }
                i++;
            }
        }
        return i == end ? bits : -1;
    }

    /** The eight 16-bit groups of an IPv6 address (the last two may be written as a dotted quad), or null. */
    private static int[] ipv6Groups(char[] text, int end) {
        int[] groups = new int[GROUPS];
        int count = 0;
        int gap = -1; // index in groups where "::" stands
        int i = 0;
        if (end >= 2 && text[0] == ':' && text[1] == ':') {
            gap = 0;
            i += 2;
            if (i == end) {
                return groups; // "::"
            }
        } else if (i < end && text[i] == ':') {
            return null; // a lone leading colon
        }
        while (true) {
            int groupStart = i;
            int value = 0;
            while (i < end && i - groupStart < 4 && hexValue(text[i]) >= 0) {
                value = value << 4 | hexValue(text[i]);
                i++;
            }
            if (i < end && text[i] == '.') {
                // an embedded dotted quad ends the address and fills two groups
                long bits = count + 2 <= GROUPS ? ipv4Bits(text, groupStart, end) : -1;
                if (bits < 0) {
                    return null;
                }
                groups[count++] = (int) (bits >>> 16);
                groups[count++] = (int) (bits & 0xFFFF);
                break;
            }
            if (i == groupStart || count == GROUPS) {
                return null;
            }
            groups[count++] = value;
            if (i == end) {
                break;
            }
            if (text[i] != ':') {
                return null;
            }
            i++;
            if (i < end && text[i] == ':') {
                if (gap >= 0) {
                    return null; // a second "::"
                }
                gap = count;
                i++;
                if (i == end) {
                    break;
                }
            } else if (i == end) {
                return null; // a trailing single colon
            }
        }
        if (gap < 0) {
            return count == GROUPS ? groups : null;
        }
        if (count == GROUPS) {
            return null; // "::" must stand for at least one group
        }
        int moved = count - gap;
        System.arraycopy(groups, gap, groups, GROUPS - moved, moved);
        Arrays.fill(groups, gap, GROUPS - moved, 0);
        return groups;
    }

    private static boolean isIpv4Mapped(int[] groups) {
        for (int i = 0; i < 5; i++) {
            if (groups[i] != 0) {
                return false;
            }
        }
        return groups[5] == 0xFFFF;
    }

    private static String ipv4Text(int bits) {
        return (bits >>> 24) + "." + (bits >>> 16 & 0xFF) + "." + (bits >>> 8 & 0xFF) + "." + (bits & 0xFF);
    }

    /** RFC 5952: the first longest run of two or more zero groups becomes "::"; hex in lower case, no leading zeros. */
    private static String ipv6Text(int[] groups) {
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < GROUPS; i++) {
            int run = 0;
            while (i + run < GROUPS && groups[i + run] == 0) {
                run++;
            }
            if (run > bestLength) {
                bestStart = i;
                bestLength = run;
            }
            i += run;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < GROUPS; i++) {
            if (i == bestStart) {
                out.append(i == 0 ? "::" : ":");
                i += bestLength - 1;
                continue;
            }
            hex(out, groups[i]);
            if (i < GROUPS - 1) {
                out.append(':');
            }
        }
        return out.toString();
    }

    private static void hex(StringBuilder out, int group) {
        boolean started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int digit = group >> shift & 0xF;
            if (digit != 0 || started || shift == 0) {
                out.append(HEX[digit]);
                started = true;
            }
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** The value of an ASCII hex digit, or -1 (Character.digit would also take other scripts' digits). */
    private static int hexValue(char c) {
        if (isDigit(c)) {
            return c - '0';
        }
        char lower = (char) (c | 0x20);
        return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
    }

    private static int indexOf(char[] text, char c, int end) {
        for (int i = 0; i < end; i++) {
            if (text[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
