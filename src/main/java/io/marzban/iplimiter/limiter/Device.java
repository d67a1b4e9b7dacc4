package io.marzban.iplimiter.limiter;

import java.util.List;
import java.util.SortedSet;

/**
 * One device of a user: the addresses of one block (IPV4_PREFIX / IPV6_PREFIX), where it was seen, and when it
 * connected (epoch seconds, ascending; the latest connection of each slot of {@link EventConsumer#SLOT_SECONDS}).
 */
public record Device(AddressBlock block, SortedSet<String> addresses, SortedSet<String> nodes,
                     List<Double> connections) {

    public double lastSeen() {
        return connections.get(connections.size() - 1);
    }

    @Override
    public String toString() {
        return block + " " + addresses + " via " + nodes;
    }
}
