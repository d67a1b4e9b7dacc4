package io.marzban.iplimiter.limiter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns a user's raw observations (as the consuming script stores them: {@code <member>@<slot>@<node>} → latest
 * connection of the member in that slot seen by that node) into devices: an address in IGNORE_CIDRS is never
 * counted, nor a forwarded one unless COUNT_FORWARDED, and the addresses of one IPV4_PREFIX / IPV6_PREFIX block are
 * one device. Done at check time, so that a change of these settings applies to the observations already kept.
 */
public final class DeviceGrouping {

    /** The consuming script's mark on an address a node took from X-Forwarded-For. */
    static final String FORWARDED = "f|";
    /** Between the member, its slot and its node in the consuming script's entries (addresses never hold one). */
    private static final char SEPARATOR = '@';

    private final int ipv4Prefix;
    private final int ipv6Prefix;
    private final List<AddressBlock> ignored;
    private final boolean countForwarded;

    public DeviceGrouping(int ipv4Prefix, int ipv6Prefix, List<AddressBlock> ignored, boolean countForwarded) {
        this.ipv4Prefix = ipv4Prefix;
        this.ipv6Prefix = ipv6Prefix;
        this.ignored = List.copyOf(ignored);
        this.countForwarded = countForwarded;
    }

    /** @param seen {@code <member>@<slot>@<node>} → the latest such connection (epoch seconds) */
    public List<Device> devices(Map<String, Double> seen) {
        Map<AddressBlock, Device> devices = new LinkedHashMap<>();
        seen.forEach((entry, at) -> {
            int slot = entry.indexOf(SEPARATOR);
            int node = slot < 0 ? -1 : entry.indexOf(SEPARATOR, slot + 1);
            String member = slot < 0 ? entry : entry.substring(0, slot);
            boolean forwarded = member.startsWith(FORWARDED);
            if (forwarded && !countForwarded) {
                return;
            }
            String address = forwarded ? member.substring(FORWARDED.length()) : member;
            byte[] bytes = AddressBlock.bytes(address);
            if (bytes == null || ignored.stream().anyMatch(block -> block.contains(bytes))) {
                return;
            }
            AddressBlock block = AddressBlock.of(bytes, bytes.length == 4 ? ipv4Prefix : ipv6Prefix);
            Device device = devices.computeIfAbsent(block,
                    b -> new Device(b, new TreeSet<>(), new TreeSet<>(), new ArrayList<>()));
            device.addresses().add(address);
            if (node >= 0 && node + 1 < entry.length()) {
                device.nodes().add(entry.substring(node + 1));
            }
            device.connections().add(at);
        });
        devices.values().forEach(device -> device.connections().sort(null));
        return new ArrayList<>(devices.values());
    }
}
