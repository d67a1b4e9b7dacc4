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
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.RuntimeCamelException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the operators what the limiter found and did, from a thread of its own so that a slow receiver never holds
 * up a decision: to WEBHOOK_URL as one JSON object per event (signed with HMAC-SHA256 in the header
 * {@value #SIGNATURE_HEADER}, {@code sha256=<hex>}, when WEBHOOK_SECRET_FILE is set), and to a Telegram chat
 * through Camel's telegram component. Either, both or neither.
 */
public final class Notifications {

    static final String SIGNATURE_HEADER = "X-Limiter-Signature";
    private static final Logger LOG = LoggerFactory.getLogger(Notifications.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Notifications waiting to be sent; more are dropped (and counted) rather than piling up in memory. */
    private static final int QUEUED = 1000;

    private final URI webhook;
    private final byte[] secret;
    private final String telegram;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ThreadPoolExecutor sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUED), runnable -> {
                Thread thread = new Thread(runnable, "limiter-notifications");
                thread.setDaemon(true);
                return thread;
            }, new ThreadPoolExecutor.DiscardPolicy());
    private final MeterRegistry meters;
    /** Set once Camel runs; null until then, and without Telegram. */
    private volatile ProducerTemplate camel;

    /**
     * @param webhook  null: no webhook
     * @param secret   null: unsigned
     * @param telegram the telegram endpoint URI, token and chat included; null: no Telegram
     */
    public Notifications(URI webhook, String secret, String telegram, MeterRegistry meters) {
        this.webhook = webhook;
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.telegram = telegram;
        this.meters = meters;
    }

    /** Telegram messages go through Camel, which exists only once the limiter's Main has configured it. */
    public void connect(CamelContext context) {
        if (telegram != null) {
            camel = context.createProducerTemplate();
        }
    }

    /** Queues {@code event} (e.g. over_limit, disabled) with {@code fields} for each channel; never blocks. */
    public void send(String event, Map<String, Object> fields) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("event", event);
        body.put("at", System.currentTimeMillis() / 1000.0);
        body.putAll(fields);
        if (webhook != null) {
            byte[] json = json(body);
            queue("webhook", () -> post(event, json));
        }
        if (telegram != null) {
            queue("telegram", () -> message(body));
        }
    }

    /** A reply to an operator's command, to the Telegram chat only, as it is; never blocks. */
    public void reply(String text) {
        if (telegram != null) {
            queue("telegram", () -> say(text, "reply"));
        }
    }

    /** Runs {@code delivery} on the sender thread; it returns whether the notification got through. */
    private void queue(String channel, Delivery delivery) {
        if (sender.getQueue().remainingCapacity() == 0) {
            counter(channel, "failed").increment();
            return;
        }
        sender.execute(() -> counter(channel, delivery.deliver() ? "sent" : "failed").increment());
    }

    @FunctionalInterface
    private interface Delivery {
        boolean deliver();
    }

    private boolean post(String event, byte[] json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(webhook).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json));
        if (secret != null) {
            request.header(SIGNATURE_HEADER, "sha256=" + HexFormat.of().formatHex(hmac(json)));
        }
        try {
            int status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status / 100 == 2) {
                return true;
            }
            LOG.warn("The webhook answered {} to the {} notification", status, event);
        } catch (IOException e) {
            LOG.warn("Cannot send the {} notification to the webhook: {}", event, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** One line per field, for people: {@code over_limit} then {@code user: maria} and so on. */
    private boolean message(Map<String, Object> body) {
        StringBuilder text = new StringBuilder("marzban-ip-limiter: ").append(body.get("event"));
        body.forEach((field, value) -> {
            if (!field.equals("event") && !field.equals("at")) {
                text.append('\n').append(field).append(": ")
                        .append(value instanceof String ? value : new String(json(value), StandardCharsets.UTF_8));
            }
        });
        return say(text.toString(), body.get("event") + " notification");
    }

    private boolean say(String text, String what) {
        ProducerTemplate producer = camel;
        if (producer == null) {
            return false;
        }
        try {
            producer.sendBody(telegram, text);
            return true;
        } catch (RuntimeCamelException e) {
            // only the cause: an exception's own message may quote the request
            LOG.warn("Cannot send the {} to Telegram: {}", what,
                    e.getCause() == null ? e.getClass().getSimpleName() : e.getCause().toString());
            return false;
        }
    }

    private Counter counter(String channel, String result) {
        return Counter.builder("marzban_limiter_notifications").tag("channel", channel).tag("result", result)
                .description("Notifications, by channel and result").register(meters);
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + value, e);
        }
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
