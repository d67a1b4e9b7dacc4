package io.marzban.iplimiter.agent.parse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressTextTest {

    private static String canonical(String text) {
        return IpAddressText.canonical(text, 0, text.length());
    }

    @ParameterizedTest
    @CsvSource({
        "198.51.100.23, 198.51.100.23",
        "0.0.0.0, 0.0.0.0",
        "255.255.255.255, 255.255.255.255",
        "2001:db8:41::9, 2001:db8:41::9",
        "2001:DB8:41::9, 2001:db8:41::9",
        "2001:0db8:0041:0000:0000:0000:0000:0009, 2001:db8:41::9",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7:0",
        "::, ::",
        "::1, ::1",
        "1::, 1::",
        "fe80::1%eth0, fe80::1",
        "fe80::1%25, fe80::1",
        "::ffff:198.51.100.7, 198.51.100.7",
        "::FFFF:c633:6407, 198.51.100.7",
        "0:0:0:0:0:ffff:198.51.100.7, 198.51.100.7",
        "64:ff9b::198.51.100.7, 64:ff9b::c633:6407",
        "::198.51.100.7, ::c633:6407",
    })
    void canonicalForm(String text, String expected) {
        assertEquals(expected, canonical(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.04", "01.2.3.4", "1..2.3", "1.2.3.4.",
        ".1.2.3", "1.2.3.-4", "+1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "0x1.2.3.4", "١.٢.٣.٤", "127.1", "::ffff:1.2.3",
        ":", ":::", "1:2", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::", ":1::", "1::2:",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "fe80::1%", "1.2.3.4%eth0", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4",
        "Masked IPv4", "203.0.*.*", "2001:db8::/64", "xx.xx.xx.xx", "localhost", "[::1]", "١::"})
    void notAnAddress(String text) {
        assertNull(canonical(text), text);
    }

    @Test
    void readsAPartOfALongerText() {
        assertEquals("2001:db8::9", IpAddressText.canonical("[2001:0DB8::9]:443", 1, 13));
        assertEquals("10.0.0.1", IpAddressText.canonical("from 10.0.0.1:5", 5, 13));
    }

    @ParameterizedTest
    @ValueSource(strings = {"203.0.*.*", "203.0.113.*", "*.*.*.*", "Masked IPv4", "Masked IPv6", "2001:db8::/64",
        "2001:db8:41::/48"})
    void xraysMaskedForms(String host) {
        assertTrue(IpAddressText.isMasked(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"xx.xx.xx.xx", "redacted", "a/b", "/64", "example.com"})
    void otherTextIsNotMasked(String host) {
        assertFalse(IpAddressText.isMasked(host), host);
    }

    /**
     * Random addresses written in every legal spelling (upper and lower case, leading zeros, "::" anywhere it may
     * stand) read back as the same bytes as the JDK reads them, and always in the one shortest form.
     */
    @Test
    void anySpellingOfAnAddressGivesItsOneCanonicalForm() throws Exception {
        Random random = new Random(20261201);
        for (int round = 0; round < 20_000; round++) {
            int[] groups = new int[8];
            for (int i = 0; i < 8; i++) {
                groups[i] = random.nextInt(3) == 0 ? random.nextInt(0x10000) : 0; // many zero runs
            }
            String spelled = spell(groups, random);
            String canonical = canonical(spelled);
            byte[] expected = InetAddress.getByName(expandedText(groups)).getAddress(); // a full literal: no DNS
            if (expected.length == 4) {
                assertEquals(InetAddress.getByAddress(expected).getHostAddress(), canonical, spelled);
                continue;
            }
            assertArrayEquals(expected, InetAddress.getByName(canonical).getAddress(), spelled);
            assertEquals(canonical.toLowerCase(Locale.ROOT), canonical);
            assertEquals(canonical, canonical(canonical), "canonical is a fixed point");
            assertFalse(canonical.matches(".*(^|:)0[0-9a-f].*"), "no leading zeros: " + canonical);
            assertTrue(canonical.indexOf("::") == canonical.lastIndexOf("::"), canonical);
            assertFalse(canonical.contains(":0:0:") && !canonical.contains("::"), "a zero run left: " + canonical);
        }
    }

    /** The groups in hex, with random case and padding, and "::" in place of one random run of zero groups. */
    private static String spell(int[] groups, Random random) {
        String[] parts = new String[8];
        for (int i = 0; i < 8; i++) {
            String hex = Integer.toHexString(groups[i]);
            if (random.nextBoolean()) {
                hex = "0".repeat(4 - hex.length()) + hex;
            }
            parts[i] = random.nextBoolean() ? hex.toUpperCase(Locale.ROOT) : hex;
        }
        int start = random.nextInt(8);
        int end = start;
        while (end < 8 && groups[end] == 0) {
            end++;
        }
        if (end == start) {
            return String.join(":", parts);
        }
        end = start + 1 + random.nextInt(end - start);
        return String.join(":", Arrays.copyOfRange(parts, 0, start)) + "::"
                + String.join(":", Arrays.copyOfRange(parts, end, 8));
    }

    private static String expandedText(int[] groups) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            text.append(i == 0 ? "" : ":").append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
