package io.marzban.iplimiter;

import io.marzban.iplimiter.config.AgentSettings;
import io.marzban.iplimiter.config.Logging;
import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.management.ManagementServer;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.monitoring.AddressMasking;
import io.marzban.iplimiter.monitoring.ShippingMetrics;
import io.marzban.iplimiter.monitoring.SkippedLines;
import io.marzban.iplimiter.monitoring.ShippingReadiness;
import io.marzban.iplimiter.parse.AccessLineParser;
import io.marzban.iplimiter.position.RedisPositionStore;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import io.marzban.iplimiter.ship.BatchAggregation;
import io.marzban.iplimiter.ship.BatchQueue;
import io.marzban.iplimiter.ship.BatchWriter;
import io.marzban.iplimiter.ship.EventJson;
import io.marzban.iplimiter.ship.Heartbeat;
import io.marzban.iplimiter.tail.TailConstants;
import io.marzban.iplimiter.tail.TailStatus;
import java.time.Clock;
import java.time.Duration;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.Main;
import org.apache.camel.main.SimpleMainShutdownStrategy;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** Starts the agent: validates the environment, then runs the YAML route in Camel Main until SIGTERM or SIGINT. */
public final class Agent {

    /** Completed batches waiting for the writer; a full queue pauses reading. */
    private static final int QUEUED_BATCHES = 4;

    /** Set once Camel Main exists; a signal that comes earlier is remembered in {@link #stopRequested}. */
    private static volatile Main running;
    private static volatile boolean stopRequested;

    private Agent() {
    }

    public static void main(String[] args) throws Exception {
        // a batch's transaction in one write: with Jedis's 8 KiB buffer a default batch (~16 KB) took three, each
        // waking Redis before the transaction was complete (docs/PERFORMANCE.md)
        System.setProperty("jedis.bufferSize.output", String.valueOf(64 * 1024));
        // Stop through Camel Main ourselves so that a signal ends in exit code 0 after the graceful stop.
        Signal.handle(new Signal("TERM"), signal -> requestStop());
        Signal.handle(new Signal("INT"), signal -> requestStop());
        AgentSettings settings = SettingsException.orExit(() -> AgentSettings.fromEnvironment(System.getenv()));
        Logging.configure(settings.logLevel(), settings.logFormat(), settings.nodeId());
        Main main = create(settings, Clock.systemUTC());
        main.setShutdownStrategy(new SimpleMainShutdownStrategy());
        running = main;
        if (stopRequested) {
            main.completed(); // run() then returns at once
        }
        try {
            System.exit(main.run(args));
        } catch (Throwable e) {
            // an Error too: the management server's threads would otherwise keep a dead agent's JVM alive
            LoggerFactory.getLogger(Agent.class).error("Cannot start: {}", rootMessage(e));
            LoggerFactory.getLogger(Agent.class).debug("Start failure", e);
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

    /** The Camel Main of the agent, with its beans; {@link Main#run()} runs it until {@link Main#completed()}. */
    public static Main create(AgentSettings settings, Clock clock) {
        LoggerFactory.getLogger(Agent.class).info("Node {} ({}): shipping {} to {} list {}", settings.nodeId(),
                settings.nodeName(), settings.accessLogPath(), settings.centralRedis(), settings.queueKey());
        CentralRedis redis = new CentralRedis(settings.centralRedis(), settings.redisTls(),
                "marzban-ip-limiter-node:" + settings.nodeId(), (int) settings.redisTimeoutMillis(),
                settings.queueKey());
        KeySpace keys = new KeySpace(settings.queueKey(),
                settings.centralRedis().topology() == RedisEndpoint.Topology.CLUSTER);
        RedisPositionStore positions = new RedisPositionStore(redis, keys, settings.nodeId());
        BatchQueue batchQueue = new BatchQueue(QUEUED_BATCHES);

        Main main = new Main(); // with the fixed options of application.properties
        main.configure()
                .withName("marzban-ip-limiter-node")
                .withRoutesIncludePattern(settings.routesIncludePattern())
                .withShutdownTimeout((int) Math.max(1, settings.shutdownTimeoutMillis() / 1000));
        ManagementServer.configure(main, settings.managementHost(), settings.managementPort(),
                settings.managementAuthFile());
        main.setOverrideProperties(settings.toProperties());
        // {{batchSize}} would otherwise be read from a raw BATCH_SIZE variable, skipping validation
        main.addInitialProperty("camel.component.properties.environmentVariableMode", "1");
        // one registry for the route's counters, the agent's meters and Camel's, scraped at /observe/metrics
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        main.bind(MicrometerConstants.METRICS_REGISTRY_NAME, meters);
        AccessLineParser parser = new AccessLineParser(settings.nodeId(), settings.nodeName(), settings.logTimezone(),
                clock);
        main.bind("accessLineParser", parser);
        // the JVM's start, not this moment: lines logged while the JVM was starting count as written since the start
        main.bind("stampedSinceStart", parser.stampedSince(ProcessHandle.current().info().startInstant()
                .orElseGet(clock::instant)));
        main.bind("positionStore", positions);
        AddressMasking masking = new AddressMasking();
        main.bind("skippedLines", new SkippedLines(meters, masking));
        main.bind("eventJson", new EventJson());
        main.bind("batchAggregation", new BatchAggregation(TailConstants.POSITION_HEADER,
                TailConstants.CAUGHT_UP_HEADER, TailConstants.READ_GENERATION_HEADER));
        main.bind("batchQueue", batchQueue);
        Heartbeat heartbeat = new Heartbeat(keys, settings.nodeId(), settings.nodeName(), settings.accessLogPath(), clock);
        TailStatus tails = TailStatus.of(main::getCamelContext);
        BatchWriter batchWriter = new BatchWriter(redis, positions, heartbeat, settings.queueKey(), tails::readAgain,
                settings.maxEventsPerSecond());
        main.bind("batchWriter", batchWriter);
        main.bind("shippingReadiness", new ShippingReadiness(redis, batchWriter, masking,
                Duration.ofMillis(settings.shippingStuckAfterMillis())));
        ShippingMetrics.register(meters, tails, redis, batchWriter, masking);
        heartbeat.measureLagWith(tails::bytesAfter);
        main.addMainListener(new GracefulStop(tails, batchQueue, redis,
                Duration.ofMillis(settings.shutdownTimeoutMillis())));
        return main;
    }
}
