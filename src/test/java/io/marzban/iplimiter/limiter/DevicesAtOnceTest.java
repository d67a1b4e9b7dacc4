package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The model's edges on connection times alone (SESSION_GAP 300 s, SESSION_LINGER 30 s, limit 2): moves and turns are
 * never devices at once, devices really used together are, and a stretch ends only once it cannot go on.
 */
class DevicesAtOnceTest {

    private static final DevicesAtOnce AT_ONCE = new DevicesAtOnce(300_000, 30_000);
    private static final DeviceGrouping GROUPING = new DeviceGrouping(32, 64, List.of(), false);

    /** Connections of one address every {@code every} seconds from {@code from} to {@code to}, both included. */
    private static final class Trace {
        private final Map<String, Double> seen = new HashMap<>();

        Trace use(String address, int from, int to, int every) {
            for (int at = from; at <= to; at += every) {
                seen.put(Events.entry(address, at, "node-a"), (double) at);
            }
            return this;
        }

        Optional<DevicesAtOnce.Crowd> at(int now) {
            Map<String, Double> past = new HashMap<>(seen);
            past.values().removeIf(at -> at > now);
            return AT_ONCE.current(GROUPING.devices(past), 2, now);
        }

        /** The longest any stretch over the limit lasted, judged at every 10 s from 0 to {@code until}. */
        double longestOver(int until) {
            double longest = 0;
            for (int now = 0; now <= until; now += 10) {
                longest = Math.max(longest, at(now).map(DevicesAtOnce.Crowd::seconds).orElse(0.0));
            }
            return longest;
        }
    }

    @Test
    void aCommuterIsOverTheLimitForTheLingerOnlyAtEachMove() {
        Trace commuter = new Trace().use("198.51.100.1", 0, 480, 10) // the laptop at home, and the phone until 60 s
                .use("203.0.113.7", 60, 180, 10) // the phone on LTE
                .use("192.0.2.50", 180, 480, 10); // the phone at the office

        assertEquals(30, commuter.longestOver(480), "three at once from the office's first connection for the linger");
    }

    @Test
    void aMoverWhoseAddressChangesEvery90SecondsBesideATablet() {
        Trace mover = new Trace().use("192.0.2.1", 0, 480, 15);
        for (int i = 0; i < 6; i++) {
            mover.use("198.51.100." + (i + 1), i * 90, i * 90 + 85, 5);
        }

        assertTrue(mover.longestOver(480) <= 30, "only the linger of each move: " + mover.longestOver(480));
    }

    @Test
    void peopleTakingTurnsAreNeverAtOnce() {
        Trace turns = new Trace().use("198.51.100.1", 0, 150, 10).use("203.0.113.7", 160, 310, 10)
                .use("192.0.2.50", 320, 480, 10);

        assertEquals(0, turns.longestOver(480));
    }

    @Test
    void threeDevicesInUseTogetherAreOverFromTheThirdsFirstConnectionAndTheirQuietSpellsAreBridged() {
        Trace sharing = new Trace().use("198.51.100.1", 0, 400, 20).use("203.0.113.7", 0, 400, 20)
                .use("192.0.2.50", 100, 150, 10).use("192.0.2.50", 350, 400, 10); // quiet for 200 s: still in use

        DevicesAtOnce.Crowd crowd = sharing.at(400).orElseThrow();
        assertEquals(100, crowd.start());
        assertEquals(400, crowd.end(), "going on now");
        assertEquals(3, crowd.devices().size());
        assertEquals(60, sharing.at(160).orElseThrow().seconds(), "before the third came back: 100 to 150 + 30 s");
    }

    @Test
    void aStretchShorterThanTheGraceThatEndedStaysCurrentUntilItCannotGoOn() {
        Trace burst = new Trace().use("198.51.100.1", 0, 700, 10).use("203.0.113.7", 0, 700, 10)
                .use("192.0.2.50", 100, 120, 10); // a third device for 20 s, then never again

        assertEquals(50, burst.at(200).orElseThrow().seconds(), "100 to 120 + 30 s");
        assertTrue(burst.at(419).isPresent(), "the third could still connect again within SESSION_GAP");
        assertTrue(burst.at(421).isEmpty(), "over: 120 + 300 s have passed");
    }

    @Test
    void connectionsArrivingLateAreJudgedWhereTheyHappened() {
        // node-b's ten minutes arrive at once at 600 s: a move from 203.0.113.7 to 192.0.2.50, not three at once
        Trace caughtUp = new Trace().use("198.51.100.1", 0, 600, 10)
                .use("203.0.113.7", 0, 290, 10).use("192.0.2.50", 300, 600, 10);

        assertTrue(caughtUp.at(600).isEmpty());
    }

    @Test
    void connectionsStampedAfterNowWaitForTheirTime() {
        Trace early = new Trace().use("198.51.100.1", 0, 200, 10).use("203.0.113.7", 0, 200, 10)
                .use("192.0.2.50", 100, 200, 10);

        assertTrue(early.at(99).isEmpty());
        assertTrue(AT_ONCE.current(GROUPING.devices(early.seen), 2, 99).isEmpty());
        assertEquals(10, early.at(110).orElseThrow().seconds());
    }
}
