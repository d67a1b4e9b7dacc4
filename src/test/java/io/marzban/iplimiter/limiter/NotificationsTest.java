package io.marzban.iplimiter.limiter;

import static io.marzban.iplimiter.limiter.Events.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook: one signed JSON object for each thing the limiter found or did. */
class NotificationsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void overTheLimitDisabledAndRestoredAreEachPostedSigned() throws Exception {
        List<String[]> received = new CopyOnWriteArrayList<>(); // body, signature
        HttpServer webhook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        webhook.createContext("/hook", exchange -> {
            received.add(new String[] {new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8),
                    exchange.getRequestHeaders().getFirst(Notifications.SIGNATURE_HEADER)});
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        webhook.start();
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            marzban.addUser("maria");
            Path secret = Files.writeString(dir.resolve("secret"), "webhook secret\n");
            Map<String, String> env = env(redis, marzban, "LIMITER_ACTION", "disable", "DISABLE_FOR", "1",
                    "WEBHOOK_URL", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook",
                    "WEBHOOK_SECRET_FILE", secret.toString());
            try (RunningLimiter limiter = RunningLimiter.start(env)) {
                Events.pushThreeDevices(redis);
                Wait.until("restored notified", Duration.ofSeconds(60), () -> received.stream()
                        .anyMatch(r -> r[0].contains("\"restored\"")));
            }
        } finally {
            webhook.stop(0);
        }
        JsonNode over = JSON.readTree(received.get(0)[0]);
        assertEquals("over_limit", over.get("event").asText());
        assertEquals("maria", over.get("user").asText());
        assertEquals(2, over.get("limit").asInt());
        assertEquals(3, over.get("devices").size());
        assertEquals("disabled", JSON.readTree(received.get(1)[0]).get("event").asText());
        assertEquals("restored", JSON.readTree(received.get(2)[0]).get("event").asText());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("webhook secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        for (String[] notification : received) {
            String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(
                    notification[0].getBytes(StandardCharsets.UTF_8)));
            assertTrue(expected.equals(notification[1]), "bad signature on " + notification[0]);
        }
    }

    @Test
    void aTelegramChatGetsAMessageForEachEventThroughCamel() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        HttpServer telegram = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        telegram.createContext("/", exchange -> {
            requests.add(exchange.getRequestURI().getPath() + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] answer = ("{\"ok\":true,\"result\":{\"message_id\":1,\"date\":1700000000,"
                    + "\"chat\":{\"id\":4242,\"type\":\"private\"},\"text\":\"ok\"}}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        telegram.start();
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            marzban.addUser("maria");
            Path token = Files.writeString(dir.resolve("token"), "123456:bot-token\n");
            Map<String, String> env = env(redis, marzban, "TELEGRAM_BOT_TOKEN_FILE", token.toString(),
                    "TELEGRAM_CHAT_ID", "4242", "TELEGRAM_API_URL", "http://127.0.0.1:" + telegram.getAddress().getPort());
            try (RunningLimiter limiter = RunningLimiter.start(env)) {
                Events.pushThreeDevices(redis);
                Wait.until("a Telegram message", Duration.ofSeconds(60),
                        () -> requests.stream().anyMatch(r -> r.contains("/sendMessage ")));
                Wait.until("counted as sent", Duration.ofSeconds(60),
                        () -> limiter.meter("marzban_limiter_notifications") >= 1);
                assertTrue(!limiter.logged("bot-token"), "the token is never logged");
            }
        } finally {
            telegram.stop(0);
        }
        // the bot's commands poll getUpdates too: the first message sent
        String request = requests.stream().filter(r -> r.contains("/sendMessage ")).findFirst().orElseThrow();
        assertTrue(request.startsWith("/bot123456:bot-token/sendMessage "), request);
        assertTrue(request.contains("4242") && request.contains("over_limit") && request.contains("maria"), request);
    }

    private static Map<String, String> env(RedisServer redis, MarzbanStandIn marzban, String... more) {
        Map<String, String> env = LimiterEnv.of(redis, marzban, more);
        env.putIfAbsent("VIOLATION_GRACE", "0.5");
        env.putIfAbsent("CHECK_INTERVAL", "0.2");
        return env;
    }
}
