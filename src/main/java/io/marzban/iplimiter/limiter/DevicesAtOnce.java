package io.marzban.iplimiter.limiter;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How many of a user's devices were online at once, judged on the connections' own times (Xray logs connection
 * starts only). A device is online from the first to the last connection of each stretch of use, plus SESSION_LINGER;
 * connections no more than SESSION_GAP apart are one stretch (a device in use may be quiet for a while), a longer
 * silence ends it. An address a device has left stops connecting when the next one begins, so a move overlaps for the
 * linger only; people taking turns never overlap at all.
 *
 * <p>A pure function of the user's stored connections and the present time: a restart, a second instance or a batch
 * of users all come to the same answer, and events that arrive late are judged where they happened.
 */
public final class DevicesAtOnce {

    private final double gapSeconds;
    private final double lingerSeconds;

    public DevicesAtOnce(long gapMillis, long lingerMillis) {
        this.gapSeconds = gapMillis / 1000.0;
        this.lingerSeconds = lingerMillis / 1000.0;
    }

    /** A stretch of time during which more devices than the limit were online, and the devices online in it. */
    public record Crowd(double start, double end, List<Device> devices) {

        public double seconds() {
            return end - start;
        }
    }

    private record Span(double start, double end) {
    }

    /**
     * The latest stretch with more than {@code limit} devices online at once, if it may still be going on: it lasts
     * until now, or one of its devices may yet connect again within SESSION_GAP and so prolong it.
     *
     * @param now epoch seconds; nothing is assumed about later times
     */
    public Optional<Crowd> current(List<Device> devices, int limit, double now) {
        List<List<Span>> online = devices.stream().map(device -> online(device, now)).toList();
        List<double[]> edges = new ArrayList<>(); // {time, +1 start / -1 end}
        online.forEach(spans -> spans.forEach(span -> {
            edges.add(new double[] {span.start(), 1});
            edges.add(new double[] {span.end(), -1});
        }));
        // at one instant ends go first: a device leaving as another arrives is not two at once
        edges.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(a[1], b[1]));
        int count = 0;
        double start = Double.NaN;
        double latestStart = Double.NaN;
        double latestEnd = Double.NaN;
        for (double[] edge : edges) {
            count += (int) edge[1];
            if (count > limit && Double.isNaN(start)) {
                start = edge[0];
            } else if (count <= limit && !Double.isNaN(start)) {
                if (edge[0] > start) {
                    latestStart = start;
                    latestEnd = edge[0];
                }
                start = Double.NaN;
            }
        }
        // the device whose stretch ended first may connect again until its last connection + SESSION_GAP
        if (Double.isNaN(latestStart) || latestEnd - lingerSeconds + gapSeconds < now) {
            return Optional.empty();
        }
        List<Device> crowd = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            double from = latestStart;
            double to = latestEnd;
            if (online.get(i).stream().anyMatch(span -> span.start() < to && span.end() > from)) {
                crowd.add(devices.get(i));
            }
        }
        return Optional.of(new Crowd(latestStart, latestEnd, crowd));
    }

    /** The device's stretches of use, none reaching past now. */
    private List<Span> online(Device device, double now) {
        List<Span> spans = new ArrayList<>();
        List<Double> connections = device.connections();
        double first = connections.get(0);
        double last = first;
        for (double at : connections.subList(1, connections.size())) {
            if (at - last > gapSeconds) {
                spans.add(new Span(first, Math.min(now, last + lingerSeconds)));
                first = at;
            }
            last = at;
        }
        spans.add(new Span(first, Math.min(now, last + lingerSeconds)));
        spans.removeIf(span -> span.end() < span.start()); // connections stamped after now: judged when now comes
        return spans;
    }
}
