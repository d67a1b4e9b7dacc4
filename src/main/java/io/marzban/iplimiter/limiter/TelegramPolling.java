package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.redis.CentralRedis;
import java.util.List;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.spi.ExceptionHandler;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.params.SetParams;

/**
 * How the telegram-commands route asks Telegram for the bot's messages. One limiter instance at a time: Telegram
 * answers 409 to a second {@code getUpdates} of the same bot, and each command must be answered once; whoever
 * holds the bot's lease in Redis polls, and renews it at each poll (so another instance takes over within
 * {@value #LEASE_MILLIS} ms of its death). It is also the consumer's exception handler: a failed poll is logged with
 * the bot's token masked, which Camel's own log line would print in the request's address.
 */
public final class TelegramPolling implements PollingConsumerPollStrategy, ExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(TelegramPolling.class);
    /** Longer than one long poll of getUpdates (30 s) and the wait between two. */
    static final long LEASE_MILLIS = 90_000;
    private static final String RENEW = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            return 0""";

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final String holder;
    private final String token;

    public TelegramPolling(CentralRedis redis, LimiterKeys keys, String holder, String token) {
        this.redis = redis;
        this.keys = keys;
        this.holder = holder;
        this.token = token;
    }

    /** Polls only while this instance holds the bot's lease; false (no poll) when Redis cannot tell. */
    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        try {
            return redis.call(jedis -> "OK".equals(jedis.set(keys.telegramPoller(), holder,
                    SetParams.setParams().nx().px(LEASE_MILLIS)))
                    || Long.valueOf(1).equals(jedis.eval(RENEW, List.of(keys.telegramPoller()),
                            List.of(holder, Long.toString(LEASE_MILLIS)))));
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        // nothing to do: Telegram is told which updates were handled by the next poll's offset
    }

    /** No retry at once: the next poll comes soon enough. */
    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
        return false;
    }

    /** A failed poll, logged with the token masked (instead of Camel's log line). */
    @Override
    public void handleException(Throwable exception) {
        handleException(null, null, exception);
    }

    @Override
    public void handleException(String message, Throwable exception) {
        handleException(message, null, exception);
    }

    @Override
    public void handleException(String message, Exchange exchange, Throwable exception) {
        StringBuilder problems = new StringBuilder();
        for (Throwable problem = exception; problem != null && problems.length() < 1000;
                problem = problem.getCause()) {
            problems.append(problems.isEmpty() ? "" : ": ").append(problem.getClass().getSimpleName());
            if (problem.getMessage() != null) {
                problems.append(' ').append(problem.getMessage().replace(token, "<token>"));
            }
        }
        LOG.warn("Cannot get the bot's messages from Telegram: {}", problems);
    }
}
