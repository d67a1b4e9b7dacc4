package io.marzban.iplimiter.management;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.camel.CamelContext;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management HTTP server of a Camel Main (agent or limiter) at MANAGEMENT_HOST:MANAGEMENT_PORT: /observe/health,
 * /observe/metrics (Prometheus), /observe/info and /observe/jolokia (for Hawtio; what it may do is in
 * jolokia-access.xml), with basic authentication from MANAGEMENT_AUTH_FILE when set. It is the JDK's own HTTP server
 * on one thread: a few requests a minute need no more, and Camel Main's Vert.x server cost ~1,850 classes, a 4 MiB
 * buffer and a thread per waiting scrape. A service of the CamelContext: it listens from the context's start to its
 * stop.
 */
public final class ManagementServer extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(ManagementServer.class);
    private static final String JOLOKIA = "/observe/jolokia";

    private final String host;
    private final int port;
    private final Path authFile;
    /** Path (ending in "/*" for it and everything below it) to what it answers, and to which methods. */
    private final Map<String, Route> routes = new LinkedHashMap<>();
    private CamelContext context;
    private HttpServer server;
    private ExecutorService thread;
    private JolokiaAnswer jolokia;

    private record Route(Answer answer, List<String> methods) {
    }

    private ManagementServer(String host, int port, Path authFile) {
        this.host = host;
        this.port = port;
        this.authFile = authFile;
    }

    /**
     * The management server of {@code main}, started and stopped with its CamelContext; Camel's meters are added to
     * the registry bound as {@link MicrometerConstants#METRICS_REGISTRY_NAME}, which /observe/metrics shows.
     *
     * @param authFile MANAGEMENT_AUTH_FILE, or null for none (warned about unless the host is a loopback one)
     */
    public static ManagementServer configure(Main main, String host, int port, Path authFile) {
        if (authFile == null && !isLoopback(host)) {
            LOG.warn("The management server listens on {} without authentication; set MANAGEMENT_AUTH_FILE, or keep "
                    + "MANAGEMENT_HOST on 127.0.0.1", host);
        }
        ManagementServer management = new ManagementServer(host, port, authFile);
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport configuring) {
                // before the routes are added, which the route gauges count
                management.context = configuring.getCamelContext();
                CamelMeters.addTo(management.context, management.meters());
                ProcessMemory.addTo(management.meters());
                try {
                    management.context.addService(management);
                } catch (Exception e) {
                    throw RuntimeCamelException.wrapRuntimeCamelException(e);
                }
            }
        });
        return management;
    }

    /** Adds {@code answer} at {@code path} (with "/*" at the end: and below it) for these methods; before start. */
    public void serve(String path, Answer answer, String... methods) {
        routes.put(path, new Route(answer, List.of(methods)));
    }

    @Override
    protected void doStart() throws Exception {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new UnknownHostException("MANAGEMENT_HOST " + host + " does not resolve");
        }
        jolokia = JolokiaAnswer.start(JOLOKIA);
        serve("/observe/health", new HealthAnswer(context, HealthAnswer.Checks.ALL), "GET");
        serve("/observe/health/live", new HealthAnswer(context, HealthAnswer.Checks.LIVENESS), "GET");
        serve("/observe/health/ready", new HealthAnswer(context, HealthAnswer.Checks.READINESS), "GET");
        serve("/observe/metrics", new MetricsAnswer(meters()), "GET");
        serve("/observe/info", new InfoAnswer(context), "GET");
        serve(JOLOKIA + "/*", jolokia, "GET", "POST");
        ManagementUsers users = authFile == null ? null : ManagementUsers.read(authFile);
        server = HttpServer.create(address, 0);
        routes.forEach((path, route) -> {
            boolean below = path.endsWith("/*");
            String exact = below ? path.substring(0, path.length() - 2) : path;
            guard(server.createContext(exact, handler(exact, below, route)), users);
        });
        if (!routes.containsKey("/")) {
            // any other path: 404, yet after the credentials, so that it tells a stranger nothing (a "/" route
            // answers 404 itself to any path but its own)
            guard(server.createContext("/", exchange -> {
                try {
                    send(exchange, Reply.empty(404));
                } finally {
                    exchange.close();
                }
            }), users);
        }
        // one thread answers every request in turn; the JDK's dispatcher thread hands the requests to it
        thread = Executors.newSingleThreadExecutor(task -> {
            Thread answering = new Thread(task, "management-http");
            answering.setDaemon(true);
            return answering;
        });
        server.setExecutor(thread);
        server.start();
        LOG.info("Management server on http://{}:{}/observe: {}{}", host, server.getAddress().getPort(),
                String.join(", ", routes.keySet()), users == null ? "" : ", with basic authentication");
    }

    @Override
    protected void doStop() {
        if (server != null) {
            server.stop(0);
            thread.shutdownNow();
            server = null;
        }
        if (jolokia != null) {
            jolokia.stop();
            jolokia = null;
        }
    }

    private static void guard(HttpContext path, ManagementUsers users) {
        if (users != null) {
            path.setAuthenticator(users);
        }
    }

    private PrometheusMeterRegistry meters() {
        return context.getRegistry().lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME,
                PrometheusMeterRegistry.class);
    }

    /** The JDK matches a context by prefix; the path must match exactly, or be below it for a "/*" route. */
    private static HttpHandler handler(String path, boolean below, Route route) {
        return exchange -> {
            try {
                String requested = exchange.getRequestURI().getPath();
                Reply reply;
                if (!requested.equals(path) && !(below && requested.startsWith(path + "/"))) {
                    reply = Reply.empty(404);
                } else if (!route.methods().contains(exchange.getRequestMethod())) {
                    exchange.getResponseHeaders().set("Allow", String.join(", ", route.methods()));
                    reply = Reply.empty(405);
                } else {
                    reply = answer(route.answer(), exchange);
                }
                send(exchange, reply);
            } finally {
                exchange.close();
            }
        };
    }

    private static Reply answer(Answer answer, HttpExchange exchange) {
        try {
            return answer.answer(exchange);
        } catch (Exception e) {
            LOG.warn("{} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e.toString());
            return Reply.text(500, "text/plain; charset=utf-8", String.valueOf(e.getMessage()));
        }
    }

    private static void send(HttpExchange exchange, Reply reply) throws IOException {
        if (reply.contentType() != null) {
            exchange.getResponseHeaders().set("Content-Type", reply.contentType());
        }
        // -1: no body at all; 0 would mean a chunked one
        exchange.sendResponseHeaders(reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
        if (reply.body().length > 0) {
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(reply.body());
            }
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
