package io.marzban.iplimiter.limiter.marzban;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.limiter.marzban.MarzbanException.Kind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limiter's one connection pool to Marzban's REST API (docs: shared marzban-api.md). One request at a time, at
 * most a few a second; the admin token is cached and renewed once when a call answers 401. A refused login pauses
 * further logins for {@link #LOGIN_PAUSE}, because Marzban alerts its administrators on every failed login.
 * Neither the password nor the token is ever logged.
 */
public final class MarzbanApi {

    private static final Logger LOG = LoggerFactory.getLogger(MarzbanApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final long MIN_NANOS_BETWEEN_REQUESTS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Waits before the 2nd and 3rd attempt of a call that got no answer or a 5xx. */
    private static final long[] RETRY_DELAYS_MILLIS = {500, 1500};
    private static final Duration LOGIN_PAUSE = Duration.ofMinutes(5);
    private static final Duration PROBE_AFTER = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final String username;
    private final String password;
    private final Map<Kind, Counter> errors = new EnumMap<>(Kind.class);
    private String token;
    private long nextRequestNanos = System.nanoTime();
    private long loginPausedUntilNanos = System.nanoTime();
    private String loginRefusal;
    private volatile long lastAnswerNanos = System.nanoTime() - PROBE_AFTER.toNanos() - 1;
    /** Why Marzban cannot be used now; null after a call that got through. */
    private volatile String problem;

    /** @param base the panel; null for none (LIMITER_ACTION=report without MARZBAN_URL): then every call fails */
    public MarzbanApi(URI base, String username, String password, MeterRegistry meters) {
        this.base = base;
        this.username = username;
        this.password = password;
        for (Kind kind : Kind.values()) {
            errors.put(kind, Counter.builder("marzban_limiter_api_errors").tag("kind", kind.name().toLowerCase())
                    .description("Marzban API calls that failed, by kind").register(meters));
        }
    }

    public MarzbanUser user(String name) {
        return MarzbanUser.fromJson(call("GET", "/api/user/" + encode(name), null));
    }

    /** PUT of the given fields only; Marzban answers with the whole user as it is now. */
    public MarzbanUser modify(String name, Map<String, Object> changes) {
        try {
            return MarzbanUser.fromJson(call("PUT", "/api/user/" + encode(name), JSON.writeValueAsString(changes)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("changes that are not JSON: " + changes, e);
        }
    }

    /**
     * Asks Marzban for the current admin if it was unreachable at the last call, or answered nothing for
     * {@link #PROBE_AFTER}: so that a panel gone away shows in the health check before a decision needs it.
     * Throws while Marzban cannot be used.
     */
    public void probeIfIdle() {
        if (base == null) {
            return; // no panel to lose
        }
        if (problem != null || System.nanoTime() - lastAnswerNanos > PROBE_AFTER.toNanos()) {
            call("GET", "/api/admin", null);
        }
    }

    /** Why Marzban cannot be used now, or null if the last call got through. */
    public String problem() {
        return problem;
    }

    private synchronized JsonNode call(String method, String path, String body) {
        if (base == null) {
            throw failed(Kind.REJECTED, method + " " + path + ": no Marzban panel is set (MARZBAN_URL)");
        }
        String failure = null;
        for (int attempt = 0; attempt <= RETRY_DELAYS_MILLIS.length; attempt++) {
            if (attempt > 0) {
                sleep(RETRY_DELAYS_MILLIS[attempt - 1]);
            }
            try {
                HttpResponse<String> response = authorized(method, path, body);
                if (response.statusCode() == 401) {
                    token = null; // expired, or the admin's password was reset: one new login, then give up
                    response = authorized(method, path, body);
                }
                int status = response.statusCode();
                if (status >= 500) {
                    failure = method + " " + path + " answered " + status;
                    continue;
                }
                problem = null;
                lastAnswerNanos = System.nanoTime();
                if (status == 401) {
                    throw failed(Kind.LOGIN_REFUSED, method + " " + path + " refused a fresh token: "
                            + detail(response));
                }
                if (status == 404) {
                    throw failed(Kind.NOT_FOUND, method + " " + path + ": " + detail(response));
                }
                if (status >= 400) {
                    throw failed(Kind.REJECTED, method + " " + path + " answered " + status + ": " + detail(response));
                }
                return JSON.readTree(response.body());
            } catch (IOException e) {
                failure = method + " " + path + ": " + e;
            }
        }
        problem = "Marzban " + base + " unreachable: " + failure;
        throw failed(Kind.UNREACHABLE, problem);
    }

    private HttpResponse<String> authorized(String method, String path, String body) throws IOException {
        if (token == null) {
            token = login();
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(base.getPath() + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        if (body == null) {
            request.GET();
        } else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        return send(request.build());
    }

    private String login() throws IOException {
        if (loginRefusal != null && System.nanoTime() < loginPausedUntilNanos) {
            throw failed(Kind.LOGIN_REFUSED, loginRefusal);
        }
        String form = "username=" + URLEncoder.encode(username, StandardCharsets.UTF_8)
                + "&password=" + URLEncoder.encode(password, StandardCharsets.UTF_8);
        HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve(base.getPath() + "/api/admin/token"))
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build());
        if (response.statusCode() == 200) {
            loginRefusal = null;
            JsonNode token = JSON.readTree(response.body()).get("access_token");
            if (token == null || !token.isTextual()) {
                throw new IOException("the login answer holds no access_token");
            }
            LOG.info("Logged in to Marzban {} as {}", base, username);
            return token.asText();
        }
        if (response.statusCode() >= 500) {
            throw new IOException("login answered " + response.statusCode());
        }
        loginRefusal = "Marzban refused the login of " + username + " (" + response.statusCode() + ": "
                + detail(response) + "); no new login before " + LOGIN_PAUSE.toMinutes() + " min, check "
                + "MARZBAN_USERNAME and the password";
        loginPausedUntilNanos = System.nanoTime() + LOGIN_PAUSE.toNanos();
        problem = loginRefusal;
        throw failed(Kind.LOGIN_REFUSED, loginRefusal);
    }

    /** Spaces requests {@link #MIN_NANOS_BETWEEN_REQUESTS} apart, so that no backlog can flood the panel. */
    private HttpResponse<String> send(HttpRequest request) throws IOException {
        long wait = nextRequestNanos - System.nanoTime();
        if (wait > 0) {
            sleep(TimeUnit.NANOSECONDS.toMillis(wait) + 1);
        }
        nextRequestNanos = System.nanoTime() + MIN_NANOS_BETWEEN_REQUESTS;
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private MarzbanException failed(Kind kind, String message) {
        errors.get(kind).increment();
        return new MarzbanException(kind, message);
    }

    private static String detail(HttpResponse<String> response) {
        try {
            JsonNode detail = JSON.readTree(response.body()).get("detail");
            return detail == null ? response.body() : detail.isTextual() ? detail.asText() : detail.toString();
        } catch (IOException e) {
            return response.body();
        }
    }

    private static String encode(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
