package io.marzban.iplimiter.limiter.panel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.limiter.panel.PanelException.Kind;
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
 * The limiter's one connection to a panel's REST API (docs: shared panels-api.md). One request at a time, at most a
 * few a second. With a password the admin token is cached and renewed once when a call answers 401; a refused
 * login pauses further logins for {@link #LOGIN_PAUSE}, because the panels alert their administrators on every
 * failed login. With an API key (PasarGuard 5.1+) there is no login. No password, token or key is ever logged.
 */
final class PanelConnection {

    private static final Logger LOG = LoggerFactory.getLogger(PanelConnection.class);
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
    private final String apiKey;
    private final Map<Kind, Counter> errors = new EnumMap<>(Kind.class);
    /** Where the panel takes the admin's form login: Marzban's and PasarGuard's path unless told otherwise. */
    private String loginPath = "/api/admin/token";
    private String token;
    private long nextRequestNanos = System.nanoTime();
    private long loginPausedUntilNanos = System.nanoTime();
    private String loginRefusal;
    private volatile long lastAnswerNanos = System.nanoTime() - PROBE_AFTER.toNanos() - 1;
    /** Why the panel cannot be used now; null after a call that got through. */
    private volatile String problem;

    PanelConnection(PanelSettings settings, MeterRegistry meters) {
        this.base = settings.url();
        this.username = settings.username();
        this.password = settings.password();
        this.apiKey = settings.apiKey();
        for (Kind kind : Kind.values()) {
            errors.put(kind, Counter.builder("marzban_limiter_api_errors").tag("kind", kind.name().toLowerCase())
                    .description("Panel API calls that failed, by kind").register(meters));
        }
    }

    synchronized void loginAt(String path) {
        loginPath = path;
    }

    JsonNode get(String path) {
        return call("GET", path, null);
    }

    /** A PUT or POST of {@code body} (null: none); the panel's answer as JSON, or null when it has none. */
    JsonNode modify(String method, String path, Object body) {
        try {
            return call(method, path, body == null ? "" : JSON.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("a body that is not JSON: " + body, e);
        }
    }

    /**
     * A GET without credentials (the panels' /openapi.json): the JSON answered, or null for a 4xx or an answer that
     * is not JSON. Throws when the panel cannot be reached.
     */
    synchronized JsonNode getPublic(String path) {
        try {
            HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve(base.getPath() + path))
                    .timeout(REQUEST_TIMEOUT).header("Accept", "application/json").GET().build());
            if (response.statusCode() >= 500) {
                throw failed(Kind.UNREACHABLE, "the panel " + base + " answered " + response.statusCode() + " to GET "
                        + path);
            }
            lastAnswerNanos = System.nanoTime();
            return response.statusCode() >= 400 ? null : JSON.readTree(response.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        } catch (IOException e) {
            throw failed(Kind.UNREACHABLE, "the panel " + base + " unreachable: GET " + path + ": " + e);
        }
    }

    /** True if the panel answered nothing for {@link #PROBE_AFTER}, or could not be used at the last call. */
    boolean idle() {
        return problem != null || System.nanoTime() - lastAnswerNanos > PROBE_AFTER.toNanos();
    }

    /** Why the panel cannot be used now, or null if the last call got through. */
    String problem() {
        return problem;
    }

    /** The panel's address: never a credential. */
    @Override
    public String toString() {
        return base.toString();
    }

    private synchronized JsonNode call(String method, String path, String body) {
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
                if (status == 409) {
                    throw failed(Kind.CONFLICT, method + " " + path + ": " + detail(response));
                }
                if (status >= 400) {
                    throw failed(Kind.REJECTED, method + " " + path + " answered " + status + ": " + detail(response));
                }
                return response.body().isBlank() ? null : JSON.readTree(response.body());
            } catch (IOException e) {
                failure = method + " " + path + ": " + e;
            }
        }
        throw failed(Kind.UNREACHABLE, "the panel " + base + " unreachable: " + failure);
    }

    private HttpResponse<String> authorized(String method, String path, String body) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(base.getPath() + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/json");
        if (apiKey != null) {
            request.header("X-Api-Key", apiKey);
        } else {
            if (token == null) {
                token = login();
            }
            request.header("Authorization", "Bearer " + token);
        }
        if (body == null) {
            request.GET();
        } else if (body.isEmpty()) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
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
        HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve(base.getPath() + loginPath))
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
            LOG.info("Logged in to the panel {} as {}", base, username);
            return token.asText();
        }
        if (response.statusCode() >= 500) {
            throw new IOException("login answered " + response.statusCode());
        }
        loginRefusal = "The panel refused the login of " + username + " (" + response.statusCode() + ": "
                + detail(response) + "); no new login before " + LOGIN_PAUSE.toMinutes() + " min, check "
                + "MARZBAN_USERNAME and the password";
        loginPausedUntilNanos = System.nanoTime() + LOGIN_PAUSE.toNanos();
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

    /** Counts the failure; one that makes the panel unusable is also the {@link #problem()} until a call gets through. */
    PanelException failed(Kind kind, String message) {
        errors.get(kind).increment();
        PanelException failure = new PanelException(kind, message);
        if (failure.waits()) {
            problem = message;
        }
        return failure;
    }

    private static String detail(HttpResponse<String> response) {
        try {
            JsonNode detail = JSON.readTree(response.body()).get("detail");
            return detail == null ? response.body() : detail.isTextual() ? detail.asText() : detail.toString();
        } catch (IOException e) {
            return response.body();
        }
    }

    static String encode(String name) {
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
