package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.config.Logging;
import io.marzban.iplimiter.management.ManagementServer;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.limiter.marzban.MarzbanApi;
import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.KeySpace;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.main.SimpleMainShutdownStrategy;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** Starts the central limiter: validates the environment, then runs routes/limiter.yaml in Camel Main until SIGTERM. */
public final class Limiter {

    /** Longer than one action on a user takes, Marzban's retries and rate limit included. */
    private static final long LEASE_MILLIS = 60_000;
    /** A user's observations outlive the window this many times over, then expire with no check needed. */
    private static final int WINDOWS_KEPT = 3;

    private Limiter() {
    }

    public static void main(String[] args) throws Exception {
        LimiterSettings settings = SettingsException.orExit(() -> LimiterSettings.fromEnvironment(System.getenv()));
        Logging.configure(settings.logLevel(), settings.logFormat(), "limiter");
        Main main = create(settings, Clock.systemUTC());
        main.setShutdownStrategy(new SimpleMainShutdownStrategy());
        // a signal ends in exit code 0 after the graceful stop
        Signal.handle(new Signal("TERM"), signal -> main.completed());
        Signal.handle(new Signal("INT"), signal -> main.completed());
        try {
            System.exit(main.run(args));
        } catch (Throwable e) {
            LoggerFactory.getLogger(Limiter.class).error("Cannot start: {}", e.getMessage());
            System.exit(1);
        }
    }

    /** The Camel Main of the limiter, with its beans; {@link Main#run()} runs it until {@link Main#completed()}. */
    public static Main create(LimiterSettings settings, Clock clock) {
        String instance = instanceName();
        LoggerFactory.getLogger(Limiter.class).info("Limiter {}: {}", instance, settings);
        CentralRedis redis = new CentralRedis(settings.centralRedis(), settings.redisTls(),
                "marzban-ip-limiter:" + instance, (int) settings.redisTimeoutMillis(), settings.queueKey());
        KeySpace keySpace = new KeySpace(settings.queueKey(),
                settings.centralRedis().topology() == RedisEndpoint.Topology.CLUSTER);
        LimiterKeys keys = new LimiterKeys(keySpace);
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MarzbanApi marzban = new MarzbanApi(settings.marzbanUrl(), settings.marzbanUsername(),
                settings.marzbanPassword(), meters);
        Lease lease = new Lease(redis, keys, instance, LEASE_MILLIS);
        Notifications notifications = new Notifications(settings.webhookUrl(), settings.webhookSecret(),
                settings.telegramEndpoint(), meters);
        Enforcement enforcement = new Enforcement(redis, keys, marzban, lease, settings.action(),
                settings.disableForMillis(), clock, notifications, meters);
        DeviceGrouping grouping = new DeviceGrouping(settings.ipv4Prefix(), settings.ipv6Prefix(), settings.ignored(),
                settings.countForwarded());

        Main main = new Main();
        main.configure()
                .withName("marzban-ip-limiter")
                .withRoutesIncludePattern("classpath:routes/limiter.yaml")
                .withShutdownTimeout(10);
        ManagementServer management = ManagementServer.configure(main, settings.managementHost(),
                settings.managementPort(), settings.managementAuthFile());
        main.setOverrideProperties(settings.toProperties());
        main.addInitialProperty("camel.component.properties.environmentVariableMode", "1");
        main.bind(MicrometerConstants.METRICS_REGISTRY_NAME, meters);
        main.bind("marzbanApi", marzban);
        main.bind("keyUpgrade", new KeyUpgrade(redis, keySpace, keys));
        main.bind("eventConsumer", new EventConsumer(redis, keys, settings.queueKey(), settings.consumeBatch(),
                WINDOWS_KEPT * Math.max(1, settings.activeWindowMillis() / 1000), meters));
        ViolationChecker checker = new ViolationChecker(redis, keys, marzban, grouping, settings.limits(), enforcement,
                settings.activeWindowMillis(), settings.violationGraceMillis(), clock, notifications, meters);
        main.bind("violationChecker", checker);
        management.serve(UserInspection.path(), new UserInspection(redis, keys, checker, settings.limits(),
                settings.activeWindowMillis(), clock), "GET");
        main.bind("restorer", new Restorer(redis, keys, marzban, lease, clock, notifications, meters));
        LimiterReadiness readiness = new LimiterReadiness(redis, marzban);
        main.bind("limiterReadiness", readiness);
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void afterConfigure(BaseMainSupport configured) {
                readiness.setCamelContext(configured.getCamelContext());
            }

            @Override
            public void afterStart(BaseMainSupport started) {
                notifications.connect(started.getCamelContext());
            }

            @Override
            public void afterStop(BaseMainSupport stopped) {
                redis.close();
            }
        });
        return main;
    }

    /** Host, process id and a random tag (two limiters may share a JVM in tests): the holder of leases. */
    private static String instanceName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return host + ":" + ProcessHandle.current().pid() + ":"
                + Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt(0x10000));
    }
}
