package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.TelegramStandIn;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bot's commands, against a stand-in of Telegram's Bot API: answered in the configured chat only. */
class TelegramCommandsTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final long CHAT = 4242;
    private static final String TOKEN = "123456:bot-token";

    @TempDir
    Path dir;

    @Test
    void theConfiguredChatDrivesTheLimiterAndAnyOtherIsIgnoredAndCounted() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start();
             TelegramStandIn telegram = TelegramStandIn.start(TOKEN)) {
            marzban.addUser("maria");
            Map<String, String> env = LimiterEnv.of(redis, marzban, "VIOLATION_GRACE", "0.5", "CHECK_INTERVAL", "0.2",
                    "LIMITER_ACTION", "disable", "DISABLE_FOR", "3600", "TELEGRAM_CHAT_ID", Long.toString(CHAT),
                    "TELEGRAM_BOT_TOKEN_FILE", Files.writeString(dir.resolve("token"), TOKEN + "\n").toString(),
                    "TELEGRAM_API_URL", telegram.url());
            Map<String, String> secondEnv = new HashMap<>(env);
            secondEnv.put("MANAGEMENT_PORT", Ports.freeText());
            try (RunningLimiter limiter = RunningLimiter.start(env);
                 RunningLimiter second = RunningLimiter.start(secondEnv)) {
                Events.pushThreeDevices(redis);
                Wait.until("maria disabled", LIMIT, () -> "disabled".equals(marzban.status("maria")));

                telegram.receive(999, "stranger", "/limit maria exempt");
                telegram.receive(CHAT, "ops", "/over");
                Wait.until("/over answered", LIMIT, () -> said(telegram, "1 users over their limit:\nmaria: 3 devices, limit 2, disabled"));
                assertEquals(1, ignored(limiter) + ignored(second), "the stranger's message, sent before");
                assertTrue(telegram.said().stream().allMatch(text -> text.startsWith(CHAT + " ")),
                        "only the configured chat is ever answered: " + telegram.said());

                telegram.receive(CHAT, "ops", "/user maria");
                Wait.until("/user answered", LIMIT, () -> said(telegram, "maria: limit 2\n3 devices in the last 300 s"));
                assertTrue(said(telegram, "203.0.113.7 via node-b"), telegram.said().toString());

                telegram.receive(CHAT, "ops", "/limit maria 3");
                Wait.until("/limit answered", LIMIT, () -> said(telegram, "maria: limit 3 (set), from the next check on"));
                assertTrue(limiter.logged("Limit of user maria: 2 -> 3, set by Telegram @ops")
                        || second.logged("Limit of user maria: 2 -> 3, set by Telegram @ops"));
                Wait.until("maria within her new limit on both instances", LIMIT,
                        () -> limiter.meter("marzban_limiter_users_over_limit") == 0
                                && second.meter("marzban_limiter_users_over_limit") == 0);

                telegram.receive(CHAT, "ops", "/restore maria");
                Wait.until("maria restored", LIMIT, () -> "active".equals(marzban.status("maria")));
                Wait.until("/restore answered", LIMIT, () -> said(telegram, "maria: restoring now"));
                telegram.receive(CHAT, "ops", "/restore maria");
                Wait.until("nothing left to restore", LIMIT,
                        () -> said(telegram, "maria was not disabled by the limiter: nothing to restore"));

                telegram.receive(CHAT, "ops", "/limit maria default");
                Wait.until("back to the default", LIMIT, () -> said(telegram, "maria: limit 2 (default)"));
                telegram.receive(CHAT, "ops", "/help");
                Wait.until("usage", LIMIT, () -> said(telegram, "Commands:\n/user NAME"));

                assertEquals(1, ignored(limiter) + ignored(second), "the stranger's command");
                assertEquals(1, telegram.said().stream().filter(text -> text.contains("1 users over their limit"))
                        .count(), "one instance polls the bot: each command is answered once");
                assertTrue(!limiter.logged("bot-token") && !second.logged("bot-token"), "the token is never logged");
                assertTrue(!limiter.logged("set by Telegram @stranger") && !second.logged("set by Telegram @stranger"));
            }
        }
    }

    private static boolean said(TelegramStandIn telegram, String text) {
        return telegram.said().stream().anyMatch(message -> message.contains(text));
    }

    private static double ignored(RunningLimiter limiter) {
        return limiter.counter("marzban_limiter_telegram_commands", "result", "ignored");
    }
}
