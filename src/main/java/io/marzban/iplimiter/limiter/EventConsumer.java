package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.CentralRedisException;
import io.marzban.iplimiter.redis.LuaScript;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * Takes the agents' events from the queue into the counting state, a batch per call of the script
 * {@code limiter/consume.lua}, which does both in one atomic step (its header is the contract).
 */
public final class EventConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);
    /**
     * How finely each address's connections are kept: the latest one of every 10 s, so that a busy device costs one
     * entry per 10 s and a device's first and last connections are known to within 10 s.
     */
    static final int SLOT_SECONDS = 10;
    /** Batches per run, so that a long backlog does not keep the Redis connection from the checks. */
    private static final int BATCHES_PER_RUN = 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final String queueKey;
    private final int batchSize;
    private final long keyLifetimeSeconds;
    private final LuaScript script;
    private final Clock clock;
    private final MeterRegistry meters;
    private final Counter consumed;
    private final Counter malformed;
    private boolean failing;
    private volatile double lastLagSeconds;

    /** @param keyLifetimeSeconds how long a user's observations stay once no new event comes (longer than kept) */
    public EventConsumer(CentralRedis redis, LimiterKeys keys, String queueKey, int batchSize, long keyLifetimeSeconds,
                         Clock clock, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.queueKey = queueKey;
        this.batchSize = batchSize;
        this.keyLifetimeSeconds = keyLifetimeSeconds;
        this.script = new LuaScript("/limiter/consume.lua");
        this.clock = clock;
        this.meters = meters;
        this.consumed = Counter.builder("marzban_limiter_events_consumed")
                .description("Events taken from the queue into the counting state").register(meters);
        this.malformed = Counter.builder("marzban_limiter_events_malformed")
                .description("Events taken from the queue that could not be counted (not JSON, fields missing)")
                .register(meters);
        Gauge.builder("marzban_limiter_consumer_lag_seconds", this, EventConsumer::lagSeconds)
                .description("Age of the oldest event still in the queue; 0 when it is empty").register(meters);
    }

    /** Consumes batches until the queue is empty or {@link #BATCHES_PER_RUN} were taken; returns the events taken. */
    public long consumeAvailable() {
        try {
            long total = consumeBatches();
            if (failing) {
                failing = false;
                LOG.info("Reading {} again", queueKey);
            }
            return total;
        } catch (CentralRedisException e) {
            // one line per outage, not one per tick: the events wait in the queue meanwhile
            if (!failing) {
                failing = true;
                LOG.warn("Cannot read {}: {}; trying again every tick", queueKey, e.getMessage());
            }
            return 0;
        }
    }

    private long consumeBatches() {
        long total = 0;
        for (int batch = 0; batch < BATCHES_PER_RUN; batch++) {
            List<Object> result = redis.call(this::runScript);
            long taken = (Long) result.get(0);
            long bad = (Long) result.get(1);
            countFromFuture(result.subList(2, result.size()));
            consumed.increment(taken - bad);
            if (bad > 0) {
                malformed.increment(bad);
                LOG.warn("Dropped {} malformed events from {} (not JSON, or without username/email, client_ip or "
                        + "timestamp)", bad, queueKey);
            }
            total += taken;
            if (taken < batchSize) {
                break;
            }
        }
        return total;
    }

    /** Node ids and counts, in pairs: the events each node stamped later than the moment they were counted. */
    private void countFromFuture(List<Object> nodesAndCounts) {
        for (int i = 0; i + 1 < nodesAndCounts.size(); i += 2) {
            String node = String.valueOf(nodesAndCounts.get(i)); // Jedis decodes the script's strings
            Counter.builder("marzban_limiter_events_from_future").tag("node", node)
                    .description("Events stamped later than the moment they were counted, counted as of that moment "
                            + "(a wrong LOG_TIMEZONE, or a node's clock ahead)")
                    .register(meters).increment((Long) nodesAndCounts.get(i + 1));
        }
    }

    /** Read when scraped; while the connection is busy or Redis away, the last age seen. */
    private double lagSeconds() {
        String oldest = redis.tryCall(jedis -> jedis.exists(queueKey) ? jedis.lindex(queueKey, -1) : "");
        if (oldest == null) {
            return lastLagSeconds;
        }
        double lag = 0;
        if (!oldest.isEmpty()) {
            try {
                JsonNode timestamp = JSON.readTree(oldest).get("timestamp");
                lag = timestamp == null ? 0 : Math.max(0, System.currentTimeMillis() / 1000.0 - timestamp.asDouble());
            } catch (IOException e) {
                lag = 0; // a malformed event: the script will drop it
            }
        }
        lastLagSeconds = lag;
        return lag;
    }

    @SuppressWarnings("unchecked")
    private List<Object> runScript(Jedis jedis) {
        // in a cluster every key the script touches shares the queue's slot: the prefixes carry its hash tag
        List<String> scriptKeys = List.of(queueKey, keys.users(), keys.names());
        Instant now = clock.instant();
        String nowSeconds = BigDecimal.valueOf(now.getEpochSecond()).add(BigDecimal.valueOf(now.getNano() / 1000, 6))
                .toPlainString();
        List<String> args = List.of(Integer.toString(batchSize), keys.seenPrefix(), Long.toString(keyLifetimeSeconds),
                nowSeconds, Integer.toString(SLOT_SECONDS));
        return (List<Object>) script.run(jedis, scriptKeys, args);
    }
}
