package io.marzban.iplimiter.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Requests to a management server (the agent's or the limiter's). */
public final class Http {

    private Http() {
    }

    /** The answer, or null when nothing answered (the server is not up yet, or gone). */
    public static HttpResponse<String> get(String url) {
        return get(url, null);
    }

    /** With {@code credentials} ("user:password") sent as HTTP basic authentication, when not null. */
    public static HttpResponse<String> get(String url, String credentials) {
        return send("GET", url, credentials, null, null);
    }

    /** Any method; with a body of {@code contentType} when {@code body} is not null. */
    public static HttpResponse<String> send(String method, String url, String credentials, String contentType,
                                            String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (credentials != null) {
            request.header("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        try {
            return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
