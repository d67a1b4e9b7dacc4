package io.marzban.iplimiter.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** GET requests to an agent's management server. */
public final class Http {

    private Http() {
    }

    /** The answer, or null when nothing answered (the server is not up yet, or gone). */
    public static HttpResponse<String> get(String url) {
        return get(url, null);
    }

    /** With {@code credentials} ("user:password") sent as HTTP basic authentication, when not null. */
    public static HttpResponse<String> get(String url, String credentials) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
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
