package io.marzban.iplimiter.demo;

import io.marzban.iplimiter.agent.Agent;
import io.marzban.iplimiter.agent.AgentSettings;
import io.marzban.iplimiter.config.Logging;
import io.marzban.iplimiter.limiter.Limiter;
import io.marzban.iplimiter.limiter.LimiterSettings;
import io.marzban.iplimiter.agent.ship.BatchWriter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.Main;
import redis.clients.jedis.Jedis;

/**
 * {@code bin/marzban-ip-limiter-node demo}: both halves on this machine, with nothing to set up. A private
 * redis-server, a sample access log that keeps growing, the agent shipping it and the limiter (report mode)
 * counting devices; it shows what arrives until Ctrl-C, which stops all of it and removes its files.
 */
public final class Demo {

    private static final String QUEUE = "node_logs_queue";
    private static final long TICK_MILLIS = 2_000;

    private final Path dir;
    private final PrivateRedis redis;
    private final SampleAccessLog log;
    private final Main agent;
    private final Main limiter;
    private volatile boolean stopping;

    private Demo(Path dir, PrivateRedis redis) throws IOException {
        this.dir = dir;
        this.redis = redis;
        Path accessLog = dir.resolve("access.log");
        this.log = new SampleAccessLog(accessLog);
        this.agent = Agent.create(AgentSettings.fromEnvironment(Map.of("NODE_ID", "demo-node", "NODE_NAME", "Demo",
                "CENTRAL_REDIS_URL", redis.url(), "ACCESS_LOG_PATH", accessLog.toString(),
                "START_POSITION", "beginning", "FLUSH_INTERVAL", "1", "MANAGEMENT_PORT", freePort())),
                Clock.systemUTC());
        this.limiter = Limiter.create(LimiterSettings.fromEnvironment(Map.of("CENTRAL_REDIS_URL", redis.url(),
                "LIMITER_ACTION", "report", "IP_LIMIT", "2", "VIOLATION_GRACE", "10",
                "CHECK_INTERVAL", "2", "MANAGEMENT_PORT", freePort())), Clock.systemUTC());
    }

    public static void main(String[] args) throws Exception {
        Logging.configure("WARN", "text", "demo-node"); // the limiter reports at WARN; Camel's start lines would drown it
        Path dir = Files.createTempDirectory("marzban-ip-limiter-demo-");
        PrivateRedis redis;
        try {
            redis = PrivateRedis.start(dir);
        } catch (IOException e) {
            delete(dir);
            System.err.println("[demo] " + e.getMessage());
            System.exit(1);
            return;
        }
        Demo demo = new Demo(dir, redis);
        Runtime.getRuntime().addShutdownHook(new Thread(demo::stop, "demo-stop"));
        demo.run();
    }

    private void run() throws InterruptedException {
        say("a private redis-server at " + redis.url() + "; the sample access log " + dir.resolve("access.log")
                + " grows by about " + SampleAccessLog.LINES_PER_SECOND + " lines a second. Ctrl-C stops it all.");
        log.start();
        start(agent, "demo-agent");
        showFirstEvents();
        say("starting the limiter: report mode, IP_LIMIT=2 devices a user, over the limit for 10 s before it reports");
        start(limiter, "demo-limiter");
        long lastLines = 0;
        long lastShipped = 0;
        double lastConsumed = 0;
        while (!stopping) {
            TimeUnit.MILLISECONDS.sleep(TICK_MILLIS);
            if (stopping) {
                return;
            }
            long lines = log.linesWritten();
            long shipped = shipped();
            double consumed = count(limiter, "marzban_limiter_events_consumed");
            say(String.format("written %d lines/s · shipped %d events/s · counted by the limiter %.0f/s · users over"
                    + " the limit now: %.0f · reported so far: %.0f", perSecond(lines - lastLines),
                    perSecond(shipped - lastShipped), (consumed - lastConsumed) * 1000 / TICK_MILLIS,
                    gauge(limiter, "marzban_limiter_users_over_limit"), count(limiter, "marzban_limiter_violations")));
            lastLines = lines;
            lastShipped = shipped;
            lastConsumed = consumed;
        }
    }

    /** The first events, before the limiter takes them off the list. */
    private void showFirstEvents() throws InterruptedException {
        try (Jedis jedis = redis.client()) {
            for (int waited = 0; waited < 300 && !stopping && jedis.llen(QUEUE) < 3; waited++) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
            List<String> oldest = jedis.lrange(QUEUE, -3, -1);
            say("the first events in the list " + QUEUE + " (one JSON object per accepted connection):");
            for (int i = oldest.size() - 1; i >= 0; i--) {
                System.out.println("    " + oldest.get(i));
            }
        }
    }

    private static void start(Main main, String threadName) {
        Thread thread = new Thread(() -> {
            try {
                main.run();
            } catch (Exception e) {
                say("stopped: " + e.getMessage());
            }
        }, threadName);
        thread.start();
    }

    private void stop() {
        stopping = true;
        say("stopping the limiter, the agent and redis-server; removing " + dir);
        limiter.completed();
        agent.completed();
        try {
            log.close();
            awaitStop(limiter);
            awaitStop(agent);
            redis.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        delete(dir);
    }

    private static void awaitStop(Main main) throws InterruptedException {
        for (int waited = 0; waited < 150 && main.getCamelContext() != null
                && !main.getCamelContext().isStopped(); waited++) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    private long shipped() {
        CamelContext context = agent.getCamelContext();
        BatchWriter writer = context == null ? null
                : context.getRegistry().lookupByNameAndType("batchWriter", BatchWriter.class);
        return writer == null ? 0 : writer.eventsShipped();
    }

    private static Search meter(Main main, String name) {
        CamelContext context = main.getCamelContext();
        MeterRegistry meters = context == null ? null : context.getRegistry()
                .lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME, MeterRegistry.class);
        return meters == null ? null : meters.find(name);
    }

    private static double count(Main main, String name) {
        Search search = meter(main, name);
        return search == null || search.counter() == null ? 0 : search.counter().count();
    }

    private static double gauge(Main main, String name) {
        Search search = meter(main, name);
        return search == null || search.gauge() == null ? 0 : search.gauge().value();
    }

    private static long perSecond(long count) {
        return count * 1000 / TICK_MILLIS;
    }

    private static void say(String text) {
        System.out.println("[demo " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "] " + text);
    }

    private static String freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return Integer.toString(probe.getLocalPort());
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException e) {
            System.err.println("[demo] could not remove " + dir + ": " + e.getMessage());
        }
    }
}
