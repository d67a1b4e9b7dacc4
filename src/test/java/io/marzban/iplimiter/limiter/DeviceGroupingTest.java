package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** From raw observations to devices: prefixes, the ignore list, forwarded addresses. */
class DeviceGroupingTest {

    private static List<String> blocks(DeviceGrouping grouping, Map<String, Double> seen) {
        return grouping.devices(seen).stream().map(device -> device.block().toString()).sorted().toList();
    }

    @Test
    void addressesOfOnePrefixAreOneDeviceWithTheLatestTime() {
        DeviceGrouping grouping = new DeviceGrouping(24, 64, List.of(), false);
        List<Device> devices = grouping.devices(Map.of("198.51.100.1@0@node-a", 1.0, "198.51.100.200@0@", 3.0,
                "2001:db8:1:2::1@0@node-b", 2.0, "2001:db8:1:3::1", 2.0));

        assertEquals(3, devices.size());
        Device v4 = devices.stream().filter(d -> d.block().toString().equals("198.51.100.0/24")).findFirst()
                .orElseThrow();
        assertEquals(3.0, v4.lastSeen());
        assertEquals(List.of("198.51.100.1", "198.51.100.200"), List.copyOf(v4.addresses()));
        assertEquals(List.of("node-a"), List.copyOf(v4.nodes()));
    }

    @Test
    void ignoredBlocksAndUnreadableAddressesCountForNothing() {
        DeviceGrouping grouping = new DeviceGrouping(32, 64, List.of(AddressBlock.parse("10.0.0.0/8"),
                AddressBlock.parse("::1")), false);

        assertEquals(List.of("198.51.100.1/32"), blocks(grouping, Map.of("10.9.9.9", 1.0, "::1", 1.0,
                "example.com", 1.0, "198.51.100.1", 1.0)));
    }

    @Test
    void forwardedAddressesCountOnlyWhenAskedTo() {
        Map<String, Double> seen = Map.of("198.51.100.1", 1.0, "f|203.0.113.5", 1.0);

        assertEquals(List.of("198.51.100.1/32"), blocks(new DeviceGrouping(32, 64, List.of(), false), seen));
        assertEquals(List.of("198.51.100.1/32", "203.0.113.5/32"),
                blocks(new DeviceGrouping(32, 64, List.of(), true), seen));
    }

    @Test
    void anIpv4MappedAddressIsTheIpv4Device() {
        assertEquals(List.of("198.51.100.1/32"),
                blocks(new DeviceGrouping(32, 64, List.of(), false), Map.of("::ffff:198.51.100.1", 1.0,
                        "198.51.100.1", 2.0)));
    }

    @Test
    void aBadBlockIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> AddressBlock.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> AddressBlock.parse("localhost"));
    }

    @Test
    void blocksAreWrittenAsRfc5952Says() {
        assertEquals("2001:db8::/32", AddressBlock.parse("2001:db8:ff::/32").toString());
        assertEquals("2001:db8:1::/64", AddressBlock.parse("2001:DB8:1:0:abcd::9/64").toString());
        assertEquals("2001:0:0:1::1/128", AddressBlock.parse("2001:0:0:1:0:0:0:1").toString());
        assertEquals("1::2:0:0:3:4/128", AddressBlock.parse("1:0:0:2:0:0:3:4").toString());
        assertEquals("::/0", AddressBlock.parse("::/0").toString());
        assertEquals("1:2:3:4:5:6:7:0/128", AddressBlock.parse("1:2:3:4:5:6:7:0").toString());
        assertEquals("198.51.100.0/24", AddressBlock.parse("198.51.100.7/24").toString());
    }

    @Test
    void userLimitsComeFromTheFileCaseInsensitively() {
        Map<String, Limit> limits = LimitFile.parse(List.of("# comment", "", "Maria 5", "bot exempt"));

        assertEquals(Map.of("maria", new Limit(5), "bot", Limit.EXEMPT), limits);
        assertThrows(IllegalArgumentException.class, () -> LimitFile.parse(List.of("maria 0")));
    }
}
