package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.support.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The consuming script against a real Redis: what it keeps of each event, what it drops. */
class EventConsumerTest {

    @TempDir
    Path dir;
    private RedisServer redis;
    private CentralRedis central;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private EventConsumer consumer;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(dir);
        central = redis.central(5000);
        consumer = new EventConsumer(central, Events.KEYS, Events.QUEUE, 2, 900, Clock.systemUTC(), meters);
    }

    @AfterEach
    void stop() throws Exception {
        central.close();
        redis.close();
    }

    @Test
    void eachEventUpdatesItsUsersConnectionsByNodeAndTheUsersIndex() {
        Events.push(redis, Events.event("node-a", "maria", "198.51.100.1", 1000.5, false),
                Events.event("node-b", "maria", "198.51.100.1", 1002.25, false),
                Events.event("node-a", "maria", "198.51.100.1", 1001.0, false),
                Events.event("node-b", "maria", "203.0.113.9", 999.0, true),
                Events.event("node-a", "maria", "198.51.100.1", 1012.0, false));

        assertEquals(5, consumer.consumeAvailable());
        try (Jedis jedis = redis.client()) {
            assertEquals(Map.of("198.51.100.1@1000@node-a", 1001.0, "198.51.100.1@1000@node-b", 1002.25,
                    "198.51.100.1@1010@node-a", 1012.0, "f|203.0.113.9@990@node-b", 999.0),
                    scores(jedis, Events.KEYS.seen("maria")), "the latest time of each 10 s slot and node");
            assertEquals(1012.0, jedis.zscore(Events.KEYS.users(), "maria"));
            long ttl = jedis.ttl(Events.KEYS.seen("maria"));
            assertEquals(true, ttl > 800 && ttl <= 900, "ttl " + ttl);
        }
    }

    @Test
    void anEventStampedAfterTheMomentItIsCountedIsCountedAsOfThatMomentAndByNode() {
        double consumedAt = 2_000_000_000.125;
        EventConsumer atThatMoment = new EventConsumer(central, Events.KEYS, Events.QUEUE, 10, 900,
                Clock.fixed(Instant.ofEpochSecond(2_000_000_000, 125_000_000), ZoneOffset.UTC), meters);
        // a node writing +03:30 stamps read as UTC: 3.5 h ahead; then a correct one
        Events.push(redis, Events.event("node-tehran", "maria", "198.51.100.1", consumedAt + 12_600, false),
                Events.event("node-tehran", "maria", "198.51.100.2", consumedAt + 12_601, false),
                Events.event("node-b", "maria", "203.0.113.9", consumedAt - 1, false));

        assertEquals(3, atThatMoment.consumeAvailable());
        try (Jedis jedis = redis.client()) {
            // so it goes offline a linger after it was counted, not 3.5 h later
            assertEquals(consumedAt, jedis.zscore(Events.KEYS.seen("maria"),
                    Events.entry("198.51.100.1", consumedAt, "node-tehran")));
            assertEquals(consumedAt, jedis.zscore(Events.KEYS.seen("maria"),
                    Events.entry("198.51.100.2", consumedAt, "node-tehran")));
            assertEquals(consumedAt - 1, jedis.zscore(Events.KEYS.seen("maria"),
                    Events.entry("203.0.113.9", consumedAt - 1, "node-b")));
            assertEquals(consumedAt, jedis.zscore(Events.KEYS.users(), "maria"));
        }
        assertEquals(2, meters.get("marzban_limiter_events_from_future").tag("node", "node-tehran").counter().count());
        assertEquals(null, meters.find("marzban_limiter_events_from_future").tag("node", "node-b").counter());
    }

    @Test
    void withoutAUsernameTheUserComesFromTheEmailSplitAtTheFirstDot() {
        Events.push(redis, "{\"timestamp\":5.0,\"email\":\"42.ana.maria\",\"client_ip\":\"198.51.100.1\"}");

        consumer.consumeAvailable();
        try (Jedis jedis = redis.client()) {
            assertEquals(Set.of("198.51.100.1@0@"), Set.copyOf(jedis.zrange(Events.KEYS.seen("ana.maria"), 0, -1)));
        }
    }

    @Test
    void namesWithJsonEscapesAreCountedDecodedAsPlainOnesAre() {
        double at = 1_700_000_000.5;
        String odd = "ana \"la\" \\ é/😀";
        Events.push(redis, Events.event("node \"a\"", odd, "198.51.100.1", at, false),
                Events.event("node-b", "plain", "198.51.100.2", at, true));

        assertEquals(2, consumer.consumeAvailable());
        try (Jedis jedis = redis.client()) {
            assertEquals(at, jedis.zscore(Events.KEYS.seen(odd), Events.entry("198.51.100.1", at, "node \"a\"")));
            assertEquals(at, jedis.zscore(Events.KEYS.seen("plain"), Events.entry("f|198.51.100.2", at, "node-b")));
        }
        assertEquals(0, meters.get("marzban_limiter_events_malformed").counter().count());
    }

    @Test
    void malformedEventsAreDroppedAndCountedWithoutStoppingTheBatch() {
        Events.push(redis, "not json", "[1,2]", "{\"timestamp\":\"x\",\"username\":\"a\",\"client_ip\":\"1.2.3.4\"}",
                "{\"timestamp\":1.0,\"client_ip\":\"1.2.3.4\"}", Events.event("node-a", "maria", "198.51.100.1"));

        assertEquals(5, consumer.consumeAvailable());
        assertEquals(4, meters.get("marzban_limiter_events_malformed").counter().count());
        assertEquals(1, meters.get("marzban_limiter_events_consumed").counter().count());
        try (Jedis jedis = redis.client()) {
            assertEquals(List.of("maria"), jedis.zrange(Events.KEYS.users(), 0, -1));
        }
    }

    @Test
    void theLagIsTheAgeOfTheOldestEventWaiting() {
        double now = System.currentTimeMillis() / 1000.0;
        Events.push(redis, Events.event("node-a", "maria", "198.51.100.1", now - 120, false),
                Events.event("node-a", "maria", "198.51.100.2", now - 5, false));
        double lag = meters.get("marzban_limiter_consumer_lag_seconds").gauge().value();

        assertEquals(true, lag >= 120 && lag < 180, "lag " + lag);
        consumer.consumeAvailable();
        assertEquals(0, meters.get("marzban_limiter_consumer_lag_seconds").gauge().value());
    }

    @Test
    void timesAreKeptToTheMicrosecondAsTheAgentWroteThem() {
        double at = Events.microseconds(1_765_155_607.123457);
        Events.push(redis, Events.event("node-a", "maria", "198.51.100.1", at, false));

        consumer.consumeAvailable();
        try (Jedis jedis = redis.client()) {
            assertEquals(at, jedis.zscore(Events.KEYS.seen("maria"), Events.entry("198.51.100.1", at, "node-a")));
            assertEquals(at, jedis.zscore(Events.KEYS.users(), "maria"));
        }
    }

    /** A batch is gathered per user before it is written: a user with thousands of entries, thousands of users. */
    @Test
    void aLargeBatchIsStoredWholeWhateverItsShape() {
        EventConsumer large = new EventConsumer(central, Events.KEYS, Events.QUEUE, 10_000, 900, Clock.systemUTC(),
                meters);
        double at = 1_765_155_600;
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            events.add(Events.event("node-a", "maria", "198.51." + (i / 250) + "." + (i % 250), at + i % 7, false));
            events.add(Events.event("node-a", "user" + i, "203.0.113.1", at + i, false));
        }
        Events.push(redis, events);

        assertEquals(6000, large.consumeAvailable());
        try (Jedis jedis = redis.client()) {
            assertEquals(3000, jedis.zcard(Events.KEYS.seen("maria")));
            assertEquals(3001, jedis.zcard(Events.KEYS.users()));
            assertEquals(at + 2999, jedis.zscore(Events.KEYS.users(), "user2999"));
            assertEquals(at + 6, jedis.zscore(Events.KEYS.users(), "maria"));
        }
    }

    @Test
    void theScriptIsLoadedAgainAfterRedisLostIt() {
        Events.push(redis, Events.event("node-a", "maria", "198.51.100.1"));
        consumer.consumeAvailable();
        try (Jedis jedis = redis.client()) {
            jedis.scriptFlush();
        }
        Events.push(redis, Events.event("node-a", "maria", "198.51.100.2"));

        assertEquals(1, consumer.consumeAvailable());
        try (Jedis jedis = redis.client()) {
            assertEquals(2, jedis.zcard(Events.KEYS.seen("maria")));
        }
    }

    private static Map<String, Double> scores(Jedis jedis, String key) {
        Map<String, Double> scores = new HashMap<>();
        jedis.zrangeWithScores(key, 0, -1).forEach(tuple -> scores.put(tuple.getElement(), tuple.getScore()));
        return scores;
    }
}
