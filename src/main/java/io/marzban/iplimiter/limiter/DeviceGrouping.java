package io.marzban.iplimiter.limiter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns a user's raw observations (as the consuming script stores them: {@code <member>@<slot>} → latest connection
 * in that slot) into devices: an address in IGNORE_CIDRS is never counted, nor a forwarded one unless
 * COUNT_FORWARDED, and the addresses of one IPV4_PREFIX / IPV6_PREFIX block are one device. Done at check time, so
 * that a change of these settings applies to the observations already kept.
 */
public final class DeviceGrouping {

    /** The consuming script's mark on an address a node took from X-Forwarded-For. */
    static final String FORWARDED = "f|";
    /** Between the member and its slot in the consuming script's entries (addresses never hold one). */
    private static final char SLOT = '@';

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

    /**
     * @param seen  {@code <member>@<slot>} → the member's latest connection in that slot (epoch seconds)
     * @param nodes the same entry → node that saw it
     */
    public List<Device> devices(Map<String, Double> seen, Map<String, String> nodes) {
        Map<AddressBlock, Device> devices = new LinkedHashMap<>();
        seen.forEach((entry, at) -> {
            int slot = entry.lastIndexOf(SLOT);
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
            String node = nodes.get(entry);
            if (node != null) {
                device.nodes().add(node);
            }
            device.connections().add(at);
        });
        devices.values().forEach(device -> device.connections().sort(null));
        return new ArrayList<>(devices.values());
    }
}
