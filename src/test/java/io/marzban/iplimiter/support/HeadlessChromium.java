package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium driven over the DevTools protocol with the JDK's WebSocket client: one page, loopback
 * only, no network of its own (no update checks, no first-run pages).
 */
public final class HeadlessChromium implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final long REPLY_SECONDS = 60;

    private final Process process;
    private volatile WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();

    private HeadlessChromium(Process process) {
        this.process = process;
    }

    public static HeadlessChromium start(Path profile, int width, int height) throws Exception {
        Process process = new ProcessBuilder(List.of("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank"))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String browser = null;
        BufferedReader errors = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8));
        for (String line = errors.readLine(); line != null; line = errors.readLine()) {
            Matcher matcher = LISTENING.matcher(line);
            if (matcher.find()) {
                browser = matcher.group(1);
                break;
            }
        }
        if (browser == null) {
            process.destroyForcibly();
            throw new IllegalStateException("Chromium did not start its DevTools server");
        }
        Thread drain = new Thread(() -> errors.lines().forEach(line -> { }), "chromium-stderr"); // never blocks it
        drain.setDaemon(true);
        drain.start();
        URI debugging = URI.create(browser);
        HttpClient http = HttpClient.newHttpClient();
        JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://" + debugging.getAuthority()
                + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
        String page = null;
        for (JsonNode target : targets) {
            if ("page".equals(target.path("type").asText())) {
                page = target.path("webSocketDebuggerUrl").asText();
            }
        }
        HeadlessChromium chromium = new HeadlessChromium(process);
        chromium.socket = http.newWebSocketBuilder().buildAsync(URI.create(page), chromium.listener())
                .get(REPLY_SECONDS, TimeUnit.SECONDS);
        return chromium;
    }

    private WebSocket.Listener listener() {
        StringBuilder message = new StringBuilder();
        return new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                message.append(data);
                if (last) {
                    received(message.toString());
                    message.setLength(0);
                }
                webSocket.request(1);
                return null;
            }
        };
    }

    private void received(String text) {
        try {
            JsonNode message = JSON.readTree(text);
            if (message.has("id")) {
                CompletableFuture<JsonNode> reply = waiting.remove(message.get("id").asInt());
                if (reply != null) {
                    reply.complete(message);
                }
            }
        } catch (IOException e) {
            // not a reply to a command of ours
        }
    }

    /** Runs a DevTools command and returns its result; an error reply throws. */
    public JsonNode send(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        waiting.put(id, reply);
        ObjectNode command = JSON.createObjectNode().put("id", id).put("method", method);
        command.set("params", JSON.valueToTree(params));
        socket.sendText(command.toString(), true).get(REPLY_SECONDS, TimeUnit.SECONDS);
        JsonNode message = reply.get(REPLY_SECONDS, TimeUnit.SECONDS);
        if (message.has("error")) {
            throw new IllegalStateException(method + ": " + message.get("error"));
        }
        return message.get("result");
    }

    /** Sends these headers with every request of the page from now on (e.g. HTTP basic authentication). */
    public void header(String name, String value) throws Exception {
        send("Network.enable", Map.of());
        send("Network.setExtraHTTPHeaders", Map.of("headers", Map.of(name, value)));
    }

    public void open(String url) throws Exception {
        send("Page.navigate", Map.of("url", url));
    }

    /** The value of a JavaScript expression in the page (a promise is awaited); null when it has none. */
    public JsonNode evaluate(String expression) throws Exception {
        JsonNode result = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
                "awaitPromise", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException(expression + ": " + result.get("exceptionDetails"));
        }
        return result.path("result").get("value");
    }

    /** The page's text, as a reader sees it. */
    public String text() throws Exception {
        JsonNode text = evaluate("document.body ? document.body.innerText : ''");
        return text == null ? "" : text.asText();
    }

    public void screenshot(Path png) throws Exception {
        JsonNode shot = send("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, Base64.getDecoder().decode(shot.get("data").asText()));
    }

    @Override
    public void close() throws InterruptedException {
        if (socket != null) {
            socket.abort();
        }
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        process.waitFor();
    }

    /** Basic authentication's header value for {@code user:password}. */
    public static String basic(String credentials) {
        return "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }
}
