package io.marzban.iplimiter.main;

import io.marzban.iplimiter.config.CommonSettings;
import io.marzban.iplimiter.config.Logging;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.management.ManagementServer;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.function.Function;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.Main;
import org.apache.camel.main.SimpleMainShutdownStrategy;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * One way to start a half (the agent or the limiter): what both have in common, so that each half's class keeps only
 * its own beans. {@link #run} reads the settings (or exits 2), configures logging and runs the Camel Main until
 * SIGTERM or SIGINT; a new HalfMain is the Camel Main itself with its management server, its meter registry, its
 * connection to the central Redis and the key space.
 */
public final class HalfMain {

    /** Set once a Camel Main runs; a signal that comes earlier is remembered in {@link #stopRequested}. */
    private static volatile Main running;
    private static volatile boolean stopRequested;

    private final Main main = new Main(); // with the fixed options of application.properties
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ManagementServer management;
    private final CentralRedis redis;
    private final KeySpace keys;

    /**
     * @param name       Camel's name for the context, also the Redis client name's first part
     * @param clientName who this is, the Redis client name's second part (the node id, or the limiter instance)
     */
    public HalfMain(String name, String clientName, CommonSettings settings) {
        main.configure()
                .withName(name)
                .withRoutesIncludePattern(settings.routesIncludePattern())
                .withShutdownTimeout((int) Math.max(1, settings.shutdownTimeoutMillis() / 1000));
        management = ManagementServer.configure(main, settings.managementHost(), settings.managementPort(),
                settings.managementAuthFile());
        main.setOverrideProperties(settings.toProperties());
        // {{name}} would otherwise be read from a raw environment variable of that name, skipping validation
        main.addInitialProperty("camel.component.properties.environmentVariableMode", "1");
        // one registry for the routes' counters, the half's meters and Camel's, scraped at /observe/metrics
        main.bind(MicrometerConstants.METRICS_REGISTRY_NAME, meters);
        redis = new CentralRedis(settings.centralRedis(), settings.redisTls(), name + ":" + clientName,
                (int) settings.redisTimeoutMillis(), settings.queueKey());
        keys = new KeySpace(settings.queueKey());
    }

    public Main main() {
        return main;
    }

    public PrometheusMeterRegistry meters() {
        return meters;
    }

    public ManagementServer management() {
        return management;
    }

    public CentralRedis redis() {
        return redis;
    }

    public KeySpace keys() {
        return keys;
    }

    /** Binds {@code bean} under {@code name} for the YAML routes, and returns it. */
    public <T> T bind(String name, T bean) {
        main.bind(name, bean);
        return bean;
    }

    /**
     * Runs a half as the process: settings from the environment (a bad one: one line, exit 2), logging tagged with
     * {@code logTag}, the Camel Main from {@code create}; exit 0 after a graceful stop on SIGTERM or SIGINT, exit 1
     * when it cannot start.
     */
    public static <S extends CommonSettings> void run(String[] args, Function<Map<String, String>, S> readSettings,
            Function<S, String> logTag, Function<S, Main> create) throws Exception {
        // a batch's transaction in one write: with Jedis's 8 KiB buffer a default batch (~16 KB) took three, each
        // waking Redis before the transaction was complete (docs/PERFORMANCE.md)
        System.setProperty("jedis.bufferSize.output", String.valueOf(64 * 1024));
        // Stop through Camel Main ourselves so that a signal ends in exit code 0 after the graceful stop; installed
        // first, so that a signal during the start is not lost.
        Signal.handle(new Signal("TERM"), signal -> requestStop());
        Signal.handle(new Signal("INT"), signal -> requestStop());
        S settings = SettingsException.orExit(() -> readSettings.apply(System.getenv()));
        Logging.configure(settings.logLevel(), settings.logFormat(), logTag.apply(settings));
        Main main = create.apply(settings);
        main.setShutdownStrategy(new SimpleMainShutdownStrategy());
        running = main;
        if (stopRequested) {
            main.completed(); // run() then returns at once
        }
        try {
            System.exit(main.run(args));
        } catch (Throwable e) {
            // an Error too: the management server's threads would otherwise keep a dead half's JVM alive
            LoggerFactory.getLogger(HalfMain.class).error("Cannot start: {}", rootMessage(e));
            LoggerFactory.getLogger(HalfMain.class).debug("Start failure", e);
            System.exit(1);
        }
    }

    private static void requestStop() {
        stopRequested = true;
        Main main = running;
        if (main != null) {
            main.completed();
        }
    }

    private static String rootMessage(Throwable error) {
        StringBuilder message = new StringBuilder(String.valueOf(error.getMessage()));
        for (Throwable cause = error.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            if (cause.getMessage() != null && !message.toString().contains(cause.getMessage())) {
                message.append(": ").append(cause.getMessage());
            }
        }
        return message.toString();
    }
}
