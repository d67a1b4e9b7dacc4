package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.resps.Tuple;

/** The limiter started as operators start it, {@code java -jar ... limiter}: exit codes, output, kill -9. */
class LimiterCommandLineTest {

    private static final List<String> LAUNCH_LIMITER = List.of("limiter");

    @TempDir
    Path dir;

    private Map<String, String> env(String redisUrl, String marzbanUrl) {
        return new HashMap<>(Map.of("CENTRAL_REDIS_URL", redisUrl, "MARZBAN_URL", marzbanUrl,
                "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                "MANAGEMENT_PORT", Ports.freeText()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "IP_LIMIT|0|IP_LIMIT=0 is out of range",
        "SESSION_GAP|5m|SESSION_GAP='5m' is not a number of seconds",
        "SESSION_LINGER|600|SESSION_LINGER=600.0 is longer than SESSION_GAP=300.0",
        "LIMITER_ACTION|kick|LIMITER_ACTION='kick' is not one of disable, report",
        "MARZBAN_URL|ftp://panel|MARZBAN_URL='ftp://panel' is not an http:// or https:// address",
        "IGNORE_CIDRS|10.0.0.0/33|IGNORE_CIDRS: '10.0.0.0/33' has a prefix outside 0 to 32",
        "IPV6_PREFIX|129|IPV6_PREFIX=129 is out of range",
        "COUNT_FORWARDED|yes|COUNT_FORWARDED='yes' is not one of false, true",
        "MARZBAN_PASSWORD_FILE|/etc/hostname|set exactly one of MARZBAN_PASSWORD and MARZBAN_PASSWORD_FILE",
        "CENTRAL_REDIS_URL|http://x|CENTRAL_REDIS_URL has scheme 'http'",
    })
    void aBadSettingIsOneLineAndExitCode2(String variable, String value, String problem) throws Exception {
        Map<String, String> env = env("redis://127.0.0.1:1/0", "http://127.0.0.1:1");
        env.put(variable, value);
        AgentProcess limiter = AgentProcess.start(env, dir.resolve("limiter.out"), LAUNCH_LIMITER);

        assertEquals(2, limiter.waitForExit());
        List<String> output = limiter.outputLines();
        assertEquals(1, output.size(), limiter.outputText());
        assertTrue(output.get(0).startsWith("marzban-ip-limiter-node: configuration error: " + problem), output.get(0));
    }

    @Test
    void aBadUserLimitsFileNamesItsLine() throws Exception {
        Path limits = Files.writeString(dir.resolve("limits"), "# user limit\nmaria 3\nana lots\n");
        Map<String, String> env = env("redis://127.0.0.1:1/0", "http://127.0.0.1:1");
        env.put("USER_LIMITS_FILE", limits.toString());
        AgentProcess limiter = AgentProcess.start(env, dir.resolve("limiter.out"), LAUNCH_LIMITER);

        assertEquals(2, limiter.waitForExit());
        assertEquals(List.of("marzban-ip-limiter-node: configuration error: USER_LIMITS_FILE='" + limits
                + "' line 3: 'lots' is neither a limit from 1 to 10000 nor 'exempt'"), limiter.outputLines());
    }

    @Test
    void anUnknownCommandIsOneLineAndExitCode2() throws Exception {
        AgentProcess launched = AgentProcess.start(Map.of(), dir.resolve("out"), List.of("limit"));

        assertEquals(2, launched.waitForExit());
        assertEquals(List.of("marzban-ip-limiter-node: unknown command 'limit'; expected agent (the default), "
                + "limiter, demo or cds-archive"), launched.outputLines());
    }

    /**
     * 50,000 events, the limiter killed with -9 while it consumes them, then started again: every user's
     * connections set is exactly what the events say, as after an uninterrupted run, and replaying events
     * changes nothing.
     */
    @Test
    void killMinus9WhileConsumingLosesNothingAndCountsNothingTwice() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            double start = System.currentTimeMillis() / 1000.0;
            List<String> events = new ArrayList<>();
            Map<String, Map<String, Double>> expected = new TreeMap<>();
            for (int i = 0; i < 50_000; i++) {
                String user = "user" + (i % 500);
                String address = "203.0." + (i / 500 % 40) + "." + (i % 7);
                double timestamp = Events.microseconds(start - 50 + i * 0.001);
                String node = "node-" + (i % 3);
                events.add(Events.event(node, user, address, timestamp, false));
                expected.computeIfAbsent(user, u -> new TreeMap<>()).merge(Events.entry(address, timestamp, node),
                        timestamp, Math::max);
            }
            for (int from = 0; from < events.size(); from += 5_000) {
                Events.push(redis, events.subList(from, from + 5_000));
            }
            Map<String, String> env = env(redis.url(), marzban.url());
            env.putAll(Map.of("CONSUME_BATCH", "50", "IP_LIMIT", "10000"));

            AgentProcess first = AgentProcess.start(env, dir.resolve("first.out"), LAUNCH_LIMITER);
            Wait.until("the limiter consuming", Duration.ofSeconds(60),
                    () -> redis.length(Events.QUEUE) <= 40_000);
            first.kill();
            long left = redis.length(Events.QUEUE);
            assertTrue(left > 0, "killed before the queue was consumed: " + left + " left");

            AgentProcess second = AgentProcess.start(env, dir.resolve("second.out"), LAUNCH_LIMITER);
            Wait.until("the queue consumed", Duration.ofSeconds(120), () -> redis.length(Events.QUEUE) == 0);
            Events.push(redis, events.subList(0, 10_000)); // a replay
            Wait.until("the replay consumed", Duration.ofSeconds(120), () -> redis.length(Events.QUEUE) == 0);
            assertEquals(0, second.terminate(), second.outputText());

            Map<String, Map<String, Double>> counted = deviceSets(redis, expected.keySet());
            assertTrue(expected.equals(counted), "the device sets differ from the events' own");
        }
    }

    private static Map<String, Map<String, Double>> deviceSets(RedisServer redis, Iterable<String> users) {
        Map<String, Map<String, Double>> sets = new TreeMap<>();
        try (Jedis jedis = redis.client()) {
            for (String user : users) {
                Map<String, Double> seen = new TreeMap<>();
                for (Tuple tuple : jedis.zrangeWithScores(Events.KEYS.seen(user), 0, -1)) {
                    seen.put(tuple.getElement(), tuple.getScore());
                }
                sets.put(user, seen);
            }
        }
        return sets;
    }
}
