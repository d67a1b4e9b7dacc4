package io.marzban.iplimiter.limiter;

import com.sun.net.httpserver.HttpExchange;
import io.marzban.iplimiter.management.Answer;
import io.marzban.iplimiter.management.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The limiter's status page at {@code /} of the management server: one HTML file, its script and its style, all in
 * the jar (no CDN, no build step), read once. The script asks the JSON answers ({@link Overview},
 * {@link UserInspection}, the nodes) with the page's own credentials, so it follows the same access rules.
 */
public final class StatusPage implements Answer {

    public static final String ASSETS = "/page/";
    private static final String FOLDER = "limiter/page/";
    /** Only the page's own files, from here; nothing inline, nothing from elsewhere, never in a frame. */
    private static final String POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

    private final Map<String, Reply> files;

    public StatusPage() {
        files = Map.of("/", file("index.html", "text/html; charset=utf-8"),
                ASSETS + "page.js", file("page.js", "text/javascript; charset=utf-8"),
                ASSETS + "page.css", file("page.css", "text/css; charset=utf-8"));
    }

    @Override
    public Reply answer(HttpExchange request) {
        Reply reply = files.get(request.getRequestURI().getPath());
        if (reply == null) {
            return Reply.empty(404);
        }
        request.getResponseHeaders().set("Content-Security-Policy", POLICY);
        request.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        request.getResponseHeaders().set("Cache-Control", "no-store");
        return reply;
    }

    private static Reply file(String name, String type) {
        try (InputStream in = StatusPage.class.getClassLoader().getResourceAsStream(FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException(FOLDER + name + " is missing from the jar");
            }
            return new Reply(200, type, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
