package io.marzban.iplimiter.limiter;

import java.util.SortedSet;

/** One device of a user: the addresses of one block (IPV4_PREFIX / IPV6_PREFIX), where and when last seen. */
public record Device(AddressBlock block, double lastSeen, SortedSet<String> addresses, SortedSet<String> nodes) {

    @Override
    public String toString() {
        return block + " " + addresses + " via " + nodes;
    }
}
