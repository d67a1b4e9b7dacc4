package io.marzban.iplimiter.limiter;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A block of addresses, {@code address/prefix}: an ignored range, or the device an address belongs to. */
public record AddressBlock(byte[] network, int prefix) {

    /** Only literals reach InetAddress, so that parsing never turns into a DNS lookup. */
    /** Two or more zero groups with the colons around them (RFC 5952 shortens the first longest run to "::"). */
    private static final Pattern ZERO_GROUPS = Pattern.compile("(?:^|:)0(?::0)+(?::|$)");
    private static final Pattern LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address (all its bits). */
    public static AddressBlock parse(String cidr) {
        int slash = cidr.indexOf('/');
        byte[] address = bytes(slash < 0 ? cidr : cidr.substring(0, slash));
        if (address == null) {
            throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 or IPv6 address or CIDR block");
        }
        int prefix = address.length * 8;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(cidr.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > address.length * 8) {
                throw new IllegalArgumentException("'" + cidr + "' has a prefix outside 0 to " + address.length * 8);
            }
        }
        return new AddressBlock(masked(address, prefix), prefix);
    }

    /** The block of {@code prefix} bits that holds {@code address}. */
    public static AddressBlock of(byte[] address, int prefix) {
        return new AddressBlock(masked(address, prefix), prefix);
    }

    /** The address's bytes (4 for IPv4, also for an IPv4-mapped IPv6 address; 16 for IPv6), or null if not one. */
    public static byte[] bytes(String text) {
        if (!LITERAL.matcher(text).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    public boolean contains(byte[] address) {
        return address.length == network.length && Arrays.equals(masked(address, prefix), network);
    }

    private static byte[] masked(byte[] address, int prefix) {
        byte[] network = address.clone();
        for (int bit = prefix; bit < network.length * 8; bit++) {
            network[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return network;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AddressBlock block && block.prefix == prefix && Arrays.equals(block.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefix;
    }

    /** {@code 198.51.100.0/24}, {@code 2001:db8:1::/64}: IPv6 in RFC 5952's form, as the agent writes addresses. */
    @Override
    public String toString() {
        String address;
        try {
            address = InetAddress.getByAddress(network).getHostAddress(); // IPv6 as eight groups, none shortened
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an address", e);
        }
        if (network.length == 16) {
            String longest = "";
            for (Matcher zeros = ZERO_GROUPS.matcher(address); zeros.find(); ) {
                longest = zeros.group().length() > longest.length() ? zeros.group() : longest;
            }
            address = longest.isEmpty() ? address : address.replaceFirst(Pattern.quote(longest), "::");
        }
        return address + "/" + prefix;
    }
}
