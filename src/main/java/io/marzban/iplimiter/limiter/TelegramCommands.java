package io.marzban.iplimiter.limiter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.apache.camel.component.telegram.model.IncomingMessage;
import org.apache.camel.component.telegram.model.User;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bot's commands, from the TELEGRAM_CHAT_ID chat only (routes/limiter.yaml): {@code /user NAME}, {@code /over},
 * {@code /limit NAME N|exempt|default} and {@code /restore NAME}. A message from any other chat is ignored, left
 * unanswered, and counted. Answers go back to that chat through {@link Notifications}.
 */
public final class TelegramCommands {

    private static final Logger LOG = LoggerFactory.getLogger(TelegramCommands.class);
    private static final int OVER_LISTED = 20;
    private static final String USAGE = """
            Commands:
            /user NAME - a user's devices, limit and state
            /over - the users over their limit now
            /limit NAME N|exempt|default - set a user's limit (default: USER_LIMITS_FILE's or IP_LIMIT)
            /restore NAME - give back now a user the limiter disabled""";

    private final String chatId;
    private final UserInspection users;
    private final Restorer restorer;
    private final Notifications notifications;
    private final Clock clock;
    private final Counter answered;
    private final Counter ignored;

    public TelegramCommands(String chatId, UserInspection users, Restorer restorer, Notifications notifications,
                            Clock clock, MeterRegistry meters) {
        this.chatId = chatId;
        this.users = users;
        this.restorer = restorer;
        this.notifications = notifications;
        this.clock = clock;
        this.answered = counter(meters, "answered");
        this.ignored = counter(meters, "ignored");
    }

    private static Counter counter(MeterRegistry meters, String result) {
        return Counter.builder("marzban_limiter_telegram_commands").tag("result", result)
                .description("Telegram messages to the bot: answered (the configured chat), ignored (any other)")
                .register(meters);
    }

    /** One message the bot received (the telegram consumer's body). */
    public void answer(IncomingMessage message) {
        if (message == null || message.getChat() == null || !chatId.equals(message.getChat().getId())) {
            ignored.increment();
            LOG.info("Telegram message from chat {} ignored: only chat TELEGRAM_CHAT_ID is answered",
                    message == null || message.getChat() == null ? "unknown" : message.getChat().getId());
            return;
        }
        if (message.getText() == null) {
            return;
        }
        answered.increment();
        notifications.reply(reply(message.getText().trim(), who(message.getFrom())));
    }

    String reply(String text, String who) {
        String[] words = text.split("\\s+");
        String command = words[0].replaceFirst("@.*$", ""); // "/over@some_bot" in a group
        try {
            users.limits().refresh();
            return switch (command) {
                case "/user" -> words.length == 2 ? user(words[1]) : USAGE;
                case "/over" -> over();
                case "/limit" -> words.length == 3 ? limit(words[1], words[2], who) : USAGE;
                case "/restore" -> words.length == 2 ? restore(words[1], who) : USAGE;
                default -> USAGE;
            };
        } catch (RuntimeException e) {
            LOG.warn("Telegram command {} failed: {}", command, e.getMessage());
            return command + " failed: " + e.getMessage();
        }
    }

    private String user(String name) {
        Map<String, Object> user = users.describe(users.keyOf(name));
        StringBuilder text = new StringBuilder(name).append(": limit ").append(user.get("limit"));
        if ("set".equals(user.get("limit_source"))) {
            text.append(" (set by ").append(user.get("limit_set_by")).append(')');
        }
        List<?> devices = (List<?>) user.get("devices");
        text.append("\n").append(devices.size()).append(" devices in the last ")
                .append(users.windowMillis() / 1000).append(" s");
        for (Object device : devices) {
            Map<?, ?> fields = (Map<?, ?>) device;
            text.append("\n- ").append(String.join(" ", (Iterable<String>) fields.get("addresses")))
                    .append(" via ").append(String.join(", ", (Iterable<String>) fields.get("nodes")))
                    .append(", ").append(ago((BigDecimal) fields.get("last_seen")));
        }
        if (user.get("over_since") != null) {
            text.append("\nover the limit since ").append(ago((BigDecimal) user.get("over_since")));
        }
        if (user.get("restore_at") != null) {
            text.append("\ndisabled by the limiter until ").append(time((BigDecimal) user.get("restore_at")));
        }
        return text.toString();
    }

    private String over() {
        long total = users.overCount();
        if (total == 0) {
            return "No user is over its limit.";
        }
        StringBuilder text = new StringBuilder(total + " users over their limit:");
        for (Map<String, Object> user : users.over(OVER_LISTED)) {
            text.append("\n").append(user.get("username")).append(": ")
                    .append(((List<?>) user.get("devices")).size()).append(" devices, limit ").append(user.get("limit"))
                    .append(user.get("restore_at") != null ? ", disabled" : Boolean.TRUE.equals(user.get("acted"))
                            ? ", reported" : "");
        }
        if (total > OVER_LISTED) {
            text.append("\n... and ").append(total - OVER_LISTED).append(" more");
        }
        return text.toString();
    }

    private String limit(String user, String value, String who) {
        String name = users.limitName(user);
        if ("default".equalsIgnoreCase(value)) {
            users.limits().clear(name, who);
        } else {
            try {
                users.limits().set(name, Limit.parse(value), who);
            } catch (IllegalArgumentException e) {
                return e.getMessage() + "\n" + USAGE;
            }
        }
        Map<String, Object> limit = users.limits().describe(name);
        return name + ": limit " + limit.get("limit") + " (" + limit.get("source") + "), from the next check on";
    }

    private String restore(String name, String who) {
        LOG.info("Restore of user {} asked by {}", name, who);
        return restorer.restoreNow(users.keyOf(name)) ? name + ": restoring now; the outcome follows"
                : name + " was not disabled by the limiter: nothing to restore";
    }

    private static String who(User from) {
        if (from == null) {
            return "Telegram";
        }
        return "Telegram " + (from.getUsername() != null ? "@" + from.getUsername() : "user " + from.getId());
    }

    private String ago(BigDecimal epochSeconds) {
        long seconds = Math.max(0, clock.millis() / 1000 - epochSeconds.longValue());
        return seconds + " s ago";
    }

    private static String time(BigDecimal epochSeconds) {
        return Instant.ofEpochSecond(epochSeconds.longValue()).truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
