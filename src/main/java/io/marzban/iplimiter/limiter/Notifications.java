package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells WEBHOOK_URL what the limiter found and did: one JSON object per event, POSTed from a thread of its own so
 * that a slow receiver never holds up a decision. With WEBHOOK_SECRET_FILE the body is signed, HMAC-SHA256 in the
 * header {@value #SIGNATURE_HEADER} as {@code sha256=<hex>}. Without WEBHOOK_URL nothing is sent.
 */
public final class Notifications {

    static final String SIGNATURE_HEADER = "X-Limiter-Signature";
    private static final Logger LOG = LoggerFactory.getLogger(Notifications.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Notifications waiting to be sent; more are dropped (and counted) rather than piling up in memory. */
    private static final int QUEUED = 1000;

    private final URI url;
    private final byte[] secret;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ThreadPoolExecutor sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUED), runnable -> {
                Thread thread = new Thread(runnable, "limiter-notifications");
                thread.setDaemon(true);
                return thread;
            }, new ThreadPoolExecutor.DiscardPolicy());
    private final Counter sent;
    private final Counter failed;

    /** @param url null: no notifications; @param secret null: unsigned */
    public Notifications(URI url, String secret, MeterRegistry meters) {
        this.url = url;
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.sent = Counter.builder("marzban_limiter_notifications").tag("result", "sent")
                .description("Webhook notifications, by result").register(meters);
        this.failed = Counter.builder("marzban_limiter_notifications").tag("result", "failed")
                .description("Webhook notifications, by result").register(meters);
    }

    /** Queues {@code event} (e.g. over_limit, disabled) with {@code fields}, for the webhook; never blocks. */
    public void send(String event, Map<String, Object> fields) {
        if (url == null) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("event", event);
        body.put("at", System.currentTimeMillis() / 1000.0);
        body.putAll(fields);
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("fields that are not JSON: " + fields, e);
        }
        if (sender.getQueue().remainingCapacity() == 0) {
            failed.increment();
        }
        sender.execute(() -> post(event, json));
    }

    private void post(String event, byte[] json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json));
        if (secret != null) {
            request.header(SIGNATURE_HEADER, "sha256=" + HexFormat.of().formatHex(hmac(json)));
        }
        try {
            int status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status / 100 == 2) {
                sent.increment();
                return;
            }
            LOG.warn("The webhook answered {} to the {} notification", status, event);
        } catch (IOException e) {
            LOG.warn("Cannot send the {} notification to the webhook: {}", event, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failed.increment();
    }

    private byte[] hmac(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JVM has HmacSHA256", e);
        }
    }
}
