package io.marzban.iplimiter.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import redis.clients.jedis.Jedis;

/** The check every delivery test ends with: the events in the queue are the lines written, each once, in order. */
public final class ExactlyOnce {

    private ExactlyOnce() {
    }

    /** Waits for {@code expected.size()} events in the agent's default queue on {@code redis}, then compares. */
    public static void assertShipped(RedisServer redis, List<String> expected, Duration limit) throws Exception {
        try {
            Wait.until(expected.size() + " events", limit, () -> queueLength(redis) >= expected.size());
        } catch (AssertionError e) {
            // fall through to the comparison, which says what is missing
        }
        Thread.sleep(300); // anything doubled would arrive now
        List<String> shipped = redis.rawLines(RedisServer.QUEUE);
        if (!shipped.equals(expected)) {
            Set<String> seen = new HashSet<>();
            long doubled = shipped.stream().filter(line -> !seen.add(line)).count();
            long lost = expected.stream().filter(line -> !seen.contains(line)).count();
            fail("expected " + expected.size() + " events, Redis has " + shipped.size() + ": " + lost + " lost, "
                    + doubled + " doubled" + (lost == 0 && doubled == 0 ? ", out of order" : ""));
        }
        assertEquals(expected, shipped);
        System.out.println("exactly once: " + expected.size() + " events, lost 0, doubled 0");
    }

    private static long queueLength(RedisServer redis) {
        try (Jedis jedis = redis.client()) {
            return jedis.llen(RedisServer.QUEUE);
        } catch (RuntimeException e) {
            return -1; // Redis is down right now
        }
    }
}
