package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.config.CommonSettings;
import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.RedisTls;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.config.SettingsReader;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Every setting of the agent, read from environment variables and validated before anything starts.
 * A bad value throws {@link SettingsException} with one line naming the variable and the expected form.
 * The route reads the validated values as Camel properties ({@link #toProperties()}).
 *
 * @param logTimezone LOG_TIMEZONE; null for {@code auto}, learned from the log
 */
public record AgentSettings(
        String nodeId,
        String nodeName,
        RedisEndpoint centralRedis,
        RedisTls redisTls,
        String accessLogPath,
        int batchSize,
        long flushIntervalMillis,
        int maxRetries,
        long retryDelayMillis,
        long maxRetryDelayMillis,
        String logLevel,
        String logFormat,
        String queueKey,
        String startPosition,
        ZoneId logTimezone,
        String managementHost,
        int managementPort,
        Path managementAuthFile,
        int maxLineBytes,
        long shutdownTimeoutMillis,
        long redisTimeoutMillis,
        String rotatedPattern,
        long rotationQuietMillis,
        long shippingStuckAfterMillis,
        long maxEventsPerSecond,
        String routesDir) implements CommonSettings {

    private static final Set<String> LOG_LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");

    public static AgentSettings fromEnvironment(Map<String, String> env) {
        SettingsReader read = new SettingsReader(env);
        String nodeId = read.name("NODE_ID", null, "node-1");
        RedisEndpoint centralRedis = read.centralRedis();
        return new AgentSettings(
                nodeId,
                read.text("NODE_NAME", nodeId),
                centralRedis,
                read.tls(centralRedis),
                read.text("ACCESS_LOG_PATH", "/var/lib/marzban-node/access.log"),
                (int) read.whole("BATCH_SIZE", 50, 1, 10_000),
                read.seconds("FLUSH_INTERVAL", "3.0", 0.05, 3600),
                (int) read.whole("MAX_RETRIES", 5, 0, 100),
                read.seconds("RETRY_DELAY", "2.0", 0.01, 3600),
                // behind sentinels or a cluster a new master takes over in seconds: retry often enough to follow it
                read.seconds("MAX_RETRY_DELAY", centralRedis.topology() == RedisEndpoint.Topology.STANDALONE ? "30"
                        : "5", 0.01, 86_400),
                read.oneOf("LOG_LEVEL", "INFO", LOG_LEVELS),
                read.oneOf("LOG_FORMAT", "text", Set.of("text", "json")),
                read.name("QUEUE_KEY", "node_logs_queue", "node_logs_queue"),
                read.oneOf("START_POSITION", "end", Set.of("end", "beginning")).toLowerCase(Locale.ROOT),
                read.zoneOrAuto("LOG_TIMEZONE"),
                read.text("MANAGEMENT_HOST", "127.0.0.1"),
                (int) read.whole("MANAGEMENT_PORT", 9876, 1, 65_535),
                read.file("MANAGEMENT_AUTH_FILE"),
                (int) read.whole("MAX_LINE_BYTES", 65_536, 256, 16 * 1024 * 1024),
                read.seconds("SHUTDOWN_TIMEOUT", "10", 1, 600),
                read.seconds("REDIS_TIMEOUT", "5", 0.1, 300),
                read.glob("ROTATED_PATTERN"),
                read.seconds("ROTATION_QUIET_PERIOD", "5", 0.1, 3600),
                read.seconds("SHIPPING_STUCK_AFTER", "60", 1, 86_400),
                read.whole("MAX_EVENTS_PER_SECOND", 0, 0, 10_000_000),
                read.routesDir("ROUTES_DIR"));
    }

    /**
     * Delays between write attempts: {@code RETRY_DELAY} doubling for {@code MAX_RETRIES} retries, each at most
     * {@code MAX_RETRY_DELAY}, then {@code MAX_RETRY_DELAY} for ever (a batch is never dropped).
     * In the form of Camel's {@code delayPattern}: "from-attempt:delay;...".
     */
    public String retryDelayPattern() {
        StringBuilder pattern = new StringBuilder();
        long delay = retryDelayMillis;
        for (int attempt = 1; attempt <= maxRetries; attempt++) {
            pattern.append(attempt).append(':').append(Math.min(delay, maxRetryDelayMillis)).append(';');
            delay = Math.min(delay * 2, maxRetryDelayMillis);
        }
        return pattern.append(maxRetries + 1).append(':').append(maxRetryDelayMillis).toString();
    }

    /** Camel's Main reads routes from here: the bundled agent route (not the limiter's), or every YAML file in ROUTES_DIR. */
    @Override
    public String routesIncludePattern() {
        return routesDir == null ? "classpath:routes/agent.yaml" : "file:" + routesDir + "/*.yaml";
    }

    /** The values the YAML route refers to as {{name}}; an unset ROTATED_PATTERN leaves the tailer its default. */
    @Override
    public Properties toProperties() {
        Properties properties = new Properties();
        properties.setProperty("accessLogPath", accessLogPath);
        properties.setProperty("startPosition", startPosition);
        properties.setProperty("maxLineBytes", Integer.toString(maxLineBytes));
        if (rotatedPattern != null) {
            properties.setProperty("rotatedPattern", rotatedPattern);
        }
        properties.setProperty("rotationQuietMillis", Long.toString(rotationQuietMillis));
        properties.setProperty("batchSize", Integer.toString(batchSize));
        properties.setProperty("flushIntervalMillis", Long.toString(flushIntervalMillis));
        properties.setProperty("retryDelayPattern", retryDelayPattern());
        properties.setProperty("nodeId", nodeId);
        properties.setProperty("queueKey", queueKey);
        return properties;
    }
}
