package io.marzban.iplimiter.config;

import io.marzban.iplimiter.tail.TailOptions;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.PatternSyntaxException;

/**
 * Every setting of the agent, read from environment variables and validated before anything starts.
 * A bad value throws {@link SettingsException} with one line naming the variable and the expected form.
 * The route reads the validated values as Camel properties ({@link #toProperties()}).
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
        String routesDir) {

    private static final Set<String> LOG_LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");

    public static AgentSettings fromEnvironment(Map<String, String> env) {
        Reader read = new Reader(env);
        String nodeId = read.name("NODE_ID", null, "node-1");
        Path passwordFile = read.file("CENTRAL_REDIS_PASSWORD_FILE");
        RedisEndpoint centralRedis = RedisEndpoint.parse("CENTRAL_REDIS_URL", read.text("CENTRAL_REDIS_URL", null),
                passwordFile != null);
        if (passwordFile != null) {
            if (centralRedis.password() != null) {
                throw new SettingsException("CENTRAL_REDIS_PASSWORD_FILE is set and CENTRAL_REDIS_URL holds a password "
                        + "too; keep the password in one place");
            }
            centralRedis = centralRedis.withPassword(read.secret("CENTRAL_REDIS_PASSWORD_FILE", passwordFile));
        }
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
                read.seconds("MAX_RETRY_DELAY", "30", 0.01, 86_400),
                read.oneOf("LOG_LEVEL", "INFO", LOG_LEVELS),
                read.oneOf("LOG_FORMAT", "text", Set.of("text", "json")),
                read.name("QUEUE_KEY", "node_logs_queue", "node_logs_queue"),
                read.oneOf("START_POSITION", "end", Set.of("end", "beginning")).toLowerCase(Locale.ROOT),
                read.zone("LOG_TIMEZONE", "UTC"),
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

    /** Camel's Main reads routes from here: the bundled route, or every YAML file in ROUTES_DIR. */
    public String routesIncludePattern() {
        return routesDir == null ? "classpath:routes/*.yaml" : "file:" + routesDir + "/*.yaml";
    }

    /** The values the YAML route refers to as {{name}}. */
    public Properties toProperties() {
        Properties properties = new Properties();
        properties.setProperty("accessLogPath", accessLogPath);
        properties.setProperty("startPosition", startPosition);
        properties.setProperty("maxLineBytes", Integer.toString(maxLineBytes));
        properties.setProperty("rotatedPattern", rotatedPattern != null ? rotatedPattern
                : TailOptions.defaultRotatedPattern(Path.of(accessLogPath)));
        properties.setProperty("rotationQuietMillis", Long.toString(rotationQuietMillis));
        properties.setProperty("batchSize", Integer.toString(batchSize));
        properties.setProperty("flushIntervalMillis", Long.toString(flushIntervalMillis));
        properties.setProperty("retryDelayPattern", retryDelayPattern());
        properties.setProperty("nodeId", nodeId);
        properties.setProperty("queueKey", queueKey);
        return properties;
    }

    /** Reads one variable at a time, turning each problem into a one-line {@link SettingsException}. */
    private record Reader(Map<String, String> env) {

        String optional(String name) {
            String value = env.get(name);
            return value == null || value.isBlank() ? null : value.trim();
        }

        /** A file that must exist and be readable, or null when the variable is not set. */
        Path file(String name) {
            String value = optional(name);
            if (value == null) {
                return null;
            }
            Path file = Path.of(value);
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new SettingsException(name + "='" + value + "' is not a readable file");
            }
            return file;
        }

        /** A secret kept in a file (a Docker secret): its content without the trailing newline. */
        String secret(String name, Path file) {
            try {
                String secret = Files.readString(file);
                if (secret.endsWith("\n")) {
                    secret = secret.substring(0, secret.length() - (secret.endsWith("\r\n") ? 2 : 1));
                }
                if (secret.isEmpty()) {
                    throw new SettingsException(name + "='" + file + "' is empty; expected the password");
                }
                return secret;
            } catch (IOException e) {
                throw new SettingsException(name + "='" + file + "' cannot be read: " + e.getMessage());
            }
        }

        RedisTls tls(RedisEndpoint redis) {
            Path ca = file("CENTRAL_REDIS_CA_FILE");
            Path cert = file("CENTRAL_REDIS_CERT_FILE");
            Path key = file("CENTRAL_REDIS_KEY_FILE");
            boolean verifyHostName = "full".equals(oneOf("CENTRAL_REDIS_TLS_VERIFY", "full", Set.of("full", "ca")));
            if (!redis.tls()) {
                if (ca != null || cert != null || key != null) {
                    throw new SettingsException("CENTRAL_REDIS_CA_FILE, CENTRAL_REDIS_CERT_FILE and "
                            + "CENTRAL_REDIS_KEY_FILE only apply to a rediss:// CENTRAL_REDIS_URL");
                }
                return null;
            }
            return RedisTls.load(ca, cert, key, verifyHostName);
        }

        /** A glob for file names in the log's directory, or null for the default. */
        String glob(String name) {
            String value = optional(name);
            if (value != null) {
                try {
                    FileSystems.getDefault().getPathMatcher("glob:" + value);
                } catch (PatternSyntaxException e) {
                    throw new SettingsException(name + "='" + value + "' is not a valid glob (" + e.getDescription()
                            + "); expected a file name pattern such as access.log.* or access.log-*");
                }
                if (value.contains("/")) {
                    throw new SettingsException(name + "='" + value + "' contains a '/'; expected a file name pattern "
                            + "in the log's directory, such as access.log.*");
                }
            }
            return value;
        }

        /** A directory holding at least one route file, or null for the bundled route. */
        String routesDir(String name) {
            String value = optional(name);
            if (value == null) {
                return null;
            }
            Path dir = Path.of(value);
            if (!Files.isDirectory(dir)) {
                throw new SettingsException(name + "='" + value + "' is not a directory; expected a directory of *.yaml "
                        + "route files, or unset for the bundled route");
            }
            try (DirectoryStream<Path> routes = Files.newDirectoryStream(dir, "*.yaml")) {
                if (!routes.iterator().hasNext()) {
                    throw new SettingsException(name + "='" + value + "' has no *.yaml file; copy routes/agent.yaml "
                            + "there, or unset it for the bundled route");
                }
            } catch (IOException e) {
                throw new SettingsException(name + "='" + value + "' cannot be read: " + e.getMessage());
            }
            return dir.toAbsolutePath().toString();
        }

        String text(String name, String fallback) {
            String value = env.get(name);
            if (value == null) {
                if (fallback == null) {
                    throw new SettingsException(name + " is not set; it is required");
                }
                return fallback;
            }
            if (value.isBlank()) {
                throw new SettingsException(name + " is empty; set a value or remove the variable"
                        + (fallback == null ? " (it is required)" : " to use the default '" + fallback + "'"));
            }
            return value.trim();
        }

        /** Used in Redis keys and as a JSON value: printable, no spaces. */
        String name(String name, String fallback, String example) {
            String value = text(name, fallback);
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c <= ' ' || c == 0x7f) {
                    throw new SettingsException(name + "='" + value + "' contains a space or control character; "
                            + "expected a name such as " + example);
                }
            }
            if (value.length() > 200) {
                throw new SettingsException(name + " is " + value.length() + " characters long; expected at most 200");
            }
            return value;
        }

        long whole(String name, long fallback, long min, long max) {
            String value = text(name, Long.toString(fallback));
            long number;
            try {
                number = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new SettingsException(name + "='" + value + "' is not a whole number; expected "
                        + min + " to " + max + " (default " + fallback + ")");
            }
            if (number < min || number > max) {
                throw new SettingsException(name + "=" + number + " is out of range; expected "
                        + min + " to " + max + " (default " + fallback + ")");
            }
            return number;
        }

        /** A duration in seconds, fractions allowed (e.g. 0.5); returned in milliseconds. */
        long seconds(String name, String fallback, double min, double max) {
            String value = text(name, fallback);
            double seconds;
            try {
                seconds = Double.parseDouble(value);
            } catch (NumberFormatException e) {
                seconds = Double.NaN;
            }
            if (Double.isNaN(seconds) || value.endsWith("d") || value.endsWith("f") || value.endsWith("D")
                    || value.endsWith("F")) {
                throw new SettingsException(name + "='" + value + "' is not a number of seconds; expected e.g. "
                        + fallback + " (from " + min + " to " + max + ")");
            }
            if (seconds < min || seconds > max) {
                throw new SettingsException(name + "=" + value + " is out of range; expected seconds from "
                        + min + " to " + max + " (default " + fallback + ")");
            }
            return Math.round(seconds * 1000);
        }

        String oneOf(String name, String fallback, Set<String> allowed) {
            String value = text(name, fallback);
            for (String candidate : allowed) {
                if (candidate.equalsIgnoreCase(value)) {
                    return candidate;
                }
            }
            throw new SettingsException(name + "='" + value + "' is not one of " + String.join(", ", allowed.stream().sorted().toList())
                    + " (default " + fallback + ")");
        }

        ZoneId zone(String name, String fallback) {
            String value = text(name, fallback);
            try {
                return ZoneId.of(value);
            } catch (DateTimeException e) {
                throw new SettingsException(name + "='" + value + "' is not a time zone; expected an IANA name such as "
                        + "UTC or Europe/Moscow, or an offset such as +03:00");
            }
        }
    }
}
