package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.config.CommonSettings;
import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.RedisTls;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.config.SettingsReader;
import io.marzban.iplimiter.limiter.panel.PanelSettings;
import io.marzban.iplimiter.limiter.panel.PanelType;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Every setting of the limiter, read from environment variables and validated before anything starts
 * (docs/LIMITER.md has the table). A bad value throws {@link SettingsException} naming the variable.
 */
public record LimiterSettings(
        RedisEndpoint centralRedis,
        RedisTls redisTls,
        long redisTimeoutMillis,
        String queueKey,
        int consumeBatch,
        PanelSettings panel,
        int ipLimit,
        LimitFile limitFile,
        long sessionGapMillis,
        long sessionLingerMillis,
        long violationGraceMillis,
        Action action,
        long disableForMillis,
        long checkIntervalMillis,
        int ipv4Prefix,
        int ipv6Prefix,
        List<AddressBlock> ignored,
        boolean countForwarded,
        URI webhookUrl,
        String webhookSecret,
        String telegramBotToken,
        String telegramChatId,
        URI telegramApiUrl,
        String managementHost,
        int managementPort,
        Path managementAuthFile,
        String logLevel,
        String logFormat,
        long shutdownTimeoutMillis) implements CommonSettings {

    private static final String TELEGRAM_BOTS = "telegram:bots";

    /** What the limiter does once a user has been over the limit for VIOLATION_GRACE. */
    public enum Action { REPORT, DISABLE }

    public static LimiterSettings fromEnvironment(Map<String, String> env) {
        SettingsReader read = new SettingsReader(env);
        RedisEndpoint centralRedis = read.centralRedis();
        int ipLimit = (int) read.whole("IP_LIMIT", 2, 1, 10_000);
        Action action = Action.valueOf(read.oneOf("LIMITER_ACTION", "report", Set.of("report", "disable"))
                .toUpperCase(Locale.ROOT));
        // reporting needs no panel: without MARZBAN_URL the limiter only counts and reports
        boolean panel = action == Action.DISABLE || read.optional("MARZBAN_URL") != null;
        long sessionGap = read.seconds("SESSION_GAP", "300", 1, 86_400);
        return new LimiterSettings(
                centralRedis,
                read.tls(centralRedis),
                read.seconds("REDIS_TIMEOUT", "5", 0.1, 300),
                read.name("QUEUE_KEY", "node_logs_queue", "node_logs_queue"),
                (int) read.whole("CONSUME_BATCH", 1000, 1, 100_000),
                panel ? panel(read) : null,
                ipLimit,
                limitFile(read),
                sessionGap,
                sessionLinger(read, sessionGap),
                read.seconds("VIOLATION_GRACE", "60", 0, 86_400),
                action,
                read.seconds("DISABLE_FOR", "600", 1, 30 * 86_400),
                read.seconds("CHECK_INTERVAL", "10", 0.1, 3600),
                (int) read.whole("IPV4_PREFIX", 32, 1, 32),
                (int) read.whole("IPV6_PREFIX", 64, 1, 128),
                ignored(read.optional("IGNORE_CIDRS")),
                Boolean.parseBoolean(read.oneOf("COUNT_FORWARDED", "false", Set.of("true", "false"))),
                webhookUrl(read.optional("WEBHOOK_URL")),
                webhookSecret(read),
                telegramBotToken(read),
                read.optional("TELEGRAM_CHAT_ID"),
                httpUrl("TELEGRAM_API_URL", read.text("TELEGRAM_API_URL", "https://api.telegram.org"),
                        "https://api.telegram.org"),
                read.text("MANAGEMENT_HOST", "127.0.0.1"),
                (int) read.whole("MANAGEMENT_PORT", 9877, 1, 65_535),
                read.file("MANAGEMENT_AUTH_FILE"),
                read.oneOf("LOG_LEVEL", "INFO", Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR")),
                read.oneOf("LOG_FORMAT", "text", Set.of("text", "json")),
                read.seconds("SHUTDOWN_TIMEOUT", "10", 1, 600));
    }

    private static long sessionLinger(SettingsReader read, long sessionGapMillis) {
        long linger = read.seconds("SESSION_LINGER", "30", 0, 86_400);
        if (linger > sessionGapMillis) {
            throw new SettingsException("SESSION_LINGER=" + linger / 1000.0 + " is longer than SESSION_GAP="
                    + sessionGapMillis / 1000.0 + "; expected a linger of at most the gap, e.g. 30");
        }
        return linger;
    }

    /**
     * How far back the limiter looks at (and keeps) connections: a stretch still going on reaches back SESSION_GAP
     * to its devices' last connections, and must be seen whole for VIOLATION_GRACE before that.
     */
    public long keptMillis() {
        return sessionGapMillis + sessionLingerMillis + violationGraceMillis;
    }

    private static URI httpUrl(String variable, String text, String example) {
        try {
            URI url = new URI(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
            if (("http".equals(url.getScheme()) || "https".equals(url.getScheme())) && url.getHost() != null
                    && url.getRawUserInfo() == null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new SettingsException(variable + "='" + text + "' is not an http:// or https:// address without "
                + "credentials; expected e.g. " + example);
    }

    private static URI webhookUrl(String text) {
        return text == null ? null : httpUrl("WEBHOOK_URL", text, "https://hooks.example.com/limiter");
    }

    private static String webhookSecret(SettingsReader read) {
        Path file = read.file("WEBHOOK_SECRET_FILE");
        return file == null ? null : read.secret("WEBHOOK_SECRET_FILE", file);
    }

    private static String telegramBotToken(SettingsReader read) {
        Path file = read.file("TELEGRAM_BOT_TOKEN_FILE");
        if ((file == null) != (read.optional("TELEGRAM_CHAT_ID") == null)) {
            throw new SettingsException("TELEGRAM_BOT_TOKEN_FILE and TELEGRAM_CHAT_ID go together; set both for "
                    + "Telegram notifications, or neither");
        }
        return file == null ? null : read.secret("TELEGRAM_BOT_TOKEN_FILE", file);
    }

    /**
     * Camel's telegram endpoint for the chat, or null without Telegram. The bot's token and the API's address are
     * the telegram component's (made in Limiter), so that no endpoint URI, log line or MBean holds the token.
     */
    public String telegramEndpoint() {
        return telegramBotToken == null ? null : TELEGRAM_BOTS + "?chatId=RAW(" + telegramChatId + ")";
    }

    /** MARZBAN_URL and the credentials: MARZBAN_USERNAME with a password, or PANEL_API_KEY_FILE (PasarGuard). */
    private static PanelSettings panel(SettingsReader read) {
        String typeName = read.oneOf("PANEL_TYPE", "auto", Set.of("auto", "marzban", "pasarguard", "marzneshin"));
        PanelType type = typeName.equals("auto") ? null : PanelType.valueOf(typeName.toUpperCase(Locale.ROOT));
        URI url = httpUrl("MARZBAN_URL", read.text("MARZBAN_URL", null), "https://panel.example.com:8000");
        Path keyFile = read.file("PANEL_API_KEY_FILE");
        if (keyFile == null) {
            return new PanelSettings(type, url, read.name("MARZBAN_USERNAME", null, "admin"), marzbanPassword(read),
                    null);
        }
        if (type == PanelType.MARZBAN || type == PanelType.MARZNESHIN) {
            throw new SettingsException("PANEL_API_KEY_FILE is for PasarGuard 5.1 and later; " + type.label()
                    + " takes MARZBAN_USERNAME and MARZBAN_PASSWORD");
        }
        if (read.optional("MARZBAN_PASSWORD") != null || read.file("MARZBAN_PASSWORD_FILE") != null) {
            throw new SettingsException("set PANEL_API_KEY_FILE or a password (MARZBAN_PASSWORD, "
                    + "MARZBAN_PASSWORD_FILE), not both");
        }
        return new PanelSettings(type, url, null, null, read.secret("PANEL_API_KEY_FILE", keyFile));
    }

    private static String marzbanPassword(SettingsReader read) {
        String password = read.optional("MARZBAN_PASSWORD");
        Path file = read.file("MARZBAN_PASSWORD_FILE");
        if ((password == null) == (file == null)) {
            throw new SettingsException("set exactly one of MARZBAN_PASSWORD and MARZBAN_PASSWORD_FILE");
        }
        return file == null ? password : read.secret("MARZBAN_PASSWORD_FILE", file);
    }

    /** USER_LIMITS_FILE, read once here so that a bad one stops the start; null when not set. */
    private static LimitFile limitFile(SettingsReader read) {
        Path file = read.file("USER_LIMITS_FILE");
        if (file == null) {
            return null;
        }
        try {
            return LimitFile.read(file);
        } catch (IOException e) {
            throw new SettingsException("USER_LIMITS_FILE='" + file + "' cannot be read: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new SettingsException("USER_LIMITS_FILE='" + file + "' " + e.getMessage());
        }
    }

    private static List<AddressBlock> ignored(String cidrs) {
        List<AddressBlock> blocks = new ArrayList<>();
        if (cidrs != null) {
            for (String cidr : cidrs.split(",")) {
                try {
                    blocks.add(AddressBlock.parse(cidr.trim()));
                } catch (IllegalArgumentException e) {
                    throw new SettingsException("IGNORE_CIDRS: " + e.getMessage()
                            + "; expected comma-separated blocks such as 10.0.0.0/8,2001:db8::/32");
                }
            }
        }
        return List.copyOf(blocks);
    }

    @Override
    public String routesIncludePattern() {
        return "classpath:routes/limiter.yaml";
    }

    /** The values routes/limiter.yaml refers to as {{name}}. */
    @Override
    public Properties toProperties() {
        Properties properties = new Properties();
        properties.setProperty("checkIntervalMillis", Long.toString(checkIntervalMillis));
        properties.setProperty("telegramCommands", Boolean.toString(telegramBotToken != null));
        return properties;
    }

    /** Never the password, the API key, the bot's token, the webhook's secret or its address (which may hold a token). */
    @Override
    public String toString() {
        return "limiter reading " + queueKey + " at " + centralRedis + ", "
                + (panel == null ? "no panel" : panel) + ", limit "
                + ipLimit + (limitFile == null ? "" : ", " + limitFile) + ", session gap " + sessionGapMillis + " ms, linger "
                + sessionLingerMillis + " ms, grace "
                + violationGraceMillis + " ms, action " + action + (webhookUrl == null ? "" : ", with a webhook")
                + (telegramBotToken == null ? "" : ", with Telegram");
    }
}
