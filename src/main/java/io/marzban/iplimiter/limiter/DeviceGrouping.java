package io.marzban.iplimiter.limiter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns a user's raw observations (address → last seen, as the consuming script stores them) into devices: an
 * address in IGNORE_CIDRS is never counted, nor a forwarded one unless COUNT_FORWARDED, and the addresses of one
 * IPV4_PREFIX / IPV6_PREFIX block are one device. Done at check time, so that a change of these settings applies
 * to the observations already kept.
 */
public final class DeviceGrouping {

    /** The consuming script's mark on an address a node took from X-Forwarded-For. */
    static final String FORWARDED = "f|";

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
     * @param lastSeen member → last seen (epoch seconds), only the members seen within the window
     * @param nodes    member → node that saw it last
     */
    public List<Device> devices(Map<String, Double> lastSeen, Map<String, String> nodes) {
        Map<AddressBlock, Device> devices = new LinkedHashMap<>();
        lastSeen.forEach((member, seen) -> {
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
            Device device = devices.computeIfAbsent(block, b -> new Device(b, seen, new TreeSet<>(), new TreeSet<>()));
            device.addresses().add(address);
            String node = nodes.get(member);
            if (node != null) {
                device.nodes().add(node);
            }
            if (seen > device.lastSeen()) {
                devices.put(block, new Device(block, seen, device.addresses(), device.nodes()));
            }
        });
        return new ArrayList<>(devices.values());
    }
}
