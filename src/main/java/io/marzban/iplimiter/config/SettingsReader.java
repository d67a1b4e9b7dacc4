package io.marzban.iplimiter.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.Map;
import java.util.Set;
import java.util.regex.PatternSyntaxException;

/**
 * Reads settings from environment variables one at a time, turning each problem into a one-line
 * {@link SettingsException} that names the variable and the expected form. Shared by the agent and the limiter.
 */
public final class SettingsReader {

    private final Map<String, String> env;

    public SettingsReader(Map<String, String> env) {
        this.env = env;
    }


    public String optional(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value.trim();
    }

    /**
     * CENTRAL_REDIS_URL, with its password from CENTRAL_REDIS_PASSWORD_FILE when that is set, and the sentinels'
     * own from CENTRAL_REDIS_SENTINEL_PASSWORD_FILE.
     */
    public RedisEndpoint centralRedis() {
        Path passwordFile = file("CENTRAL_REDIS_PASSWORD_FILE");
        RedisEndpoint centralRedis = RedisEndpoint.parse("CENTRAL_REDIS_URL", text("CENTRAL_REDIS_URL", null),
                passwordFile != null);
        Path sentinelPasswordFile = file("CENTRAL_REDIS_SENTINEL_PASSWORD_FILE");
        if (sentinelPasswordFile != null) {
            if (centralRedis.topology() != RedisEndpoint.Topology.SENTINEL) {
                throw new SettingsException("CENTRAL_REDIS_SENTINEL_PASSWORD_FILE only applies to a "
                        + "redis-sentinel:// or rediss-sentinel:// CENTRAL_REDIS_URL");
            }
            centralRedis = centralRedis.withSentinelPassword(secret("CENTRAL_REDIS_SENTINEL_PASSWORD_FILE",
                    sentinelPasswordFile));
        }
        if (passwordFile == null) {
            return centralRedis;
        }
        if (centralRedis.password() != null) {
            throw new SettingsException("CENTRAL_REDIS_PASSWORD_FILE is set and CENTRAL_REDIS_URL holds a password "
                    + "too; keep the password in one place");
        }
        return centralRedis.withPassword(secret("CENTRAL_REDIS_PASSWORD_FILE", passwordFile));
    }

    /** A file that must exist and be readable, or null when the variable is not set. */
    public Path file(String name) {
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
    public String secret(String name, Path file) {
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

    public RedisTls tls(RedisEndpoint redis) {
        Path ca = file("CENTRAL_REDIS_CA_FILE");
        Path cert = file("CENTRAL_REDIS_CERT_FILE");
        Path key = file("CENTRAL_REDIS_KEY_FILE");
        boolean verifyHostName = "full".equals(oneOf("CENTRAL_REDIS_TLS_VERIFY", "full", Set.of("full", "ca")));
        if (!redis.tls()) {
            if (ca != null || cert != null || key != null) {
                throw new SettingsException("CENTRAL_REDIS_CA_FILE, CENTRAL_REDIS_CERT_FILE and "
                        + "CENTRAL_REDIS_KEY_FILE only apply to a rediss:// CENTRAL_REDIS_URL (or rediss-sentinel://, "
                        + "rediss-cluster://)");
            }
            return null;
        }
        return RedisTls.load(ca, cert, key, verifyHostName);
    }

    /** A glob for file names in the log's directory, or null for the default. */
    public String glob(String name) {
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
    public String routesDir(String name) {
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

    public String text(String name, String fallback) {
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
    public String name(String name, String fallback, String example) {
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

    public long whole(String name, long fallback, long min, long max) {
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
    public long seconds(String name, String fallback, double min, double max) {
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

    public String oneOf(String name, String fallback, Set<String> allowed) {
        String value = text(name, fallback);
        for (String candidate : allowed) {
            if (candidate.equalsIgnoreCase(value)) {
                return candidate;
            }
        }
        throw new SettingsException(name + "='" + value + "' is not one of " + String.join(", ", allowed.stream().sorted().toList())
                + " (default " + fallback + ")");
    }

    /** A zone, or null for {@code auto} (the default). */
    public ZoneId zoneOrAuto(String name) {
        String value = text(name, "auto");
        if (value.equalsIgnoreCase("auto")) {
            return null;
        }
        try {
            return ZoneId.of(value);
        } catch (DateTimeException e) {
            throw new SettingsException(name + "='" + value + "' is not a time zone; expected auto (the default), an "
                    + "IANA name such as UTC or Europe/Moscow, or an offset such as +03:00");
        }
    }
}
