package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.panel.PanelClient;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.main.HalfMain;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import org.apache.camel.component.telegram.TelegramComponent;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.LoggerFactory;

/** The limiter's wiring: the beans routes/limiter.yaml names, around the shared start of {@link HalfMain}. */
public final class Limiter {

    /** Longer than one action on a user takes, the panel's retries and rate limit included. */
    private static final long LEASE_MILLIS = 60_000;
    /** A user's connections outlive the time they are looked at this many times over, then expire unchecked. */
    private static final int KEPT_TIMES = 2;

    private Limiter() {
    }

    public static void main(String[] args) throws Exception {
        HalfMain.run(args, LimiterSettings::fromEnvironment, settings -> "limiter",
                settings -> create(settings, Clock.systemUTC()));
    }

    /** The Camel Main of the limiter, with its beans; {@link Main#run()} runs it until {@link Main#completed()}. */
    public static Main create(LimiterSettings settings, Clock clock) {
        String instance = instanceName();
        LoggerFactory.getLogger(Limiter.class).info("Limiter {}: {}", instance, settings);
        HalfMain half = new HalfMain("marzban-ip-limiter", instance, settings);
        CentralRedis redis = half.redis();
        LimiterKeys keys = new LimiterKeys(half.keys());
        PrometheusMeterRegistry meters = half.meters();
        PanelClient panel = half.bind("panel", new PanelClient(settings.panel(), meters));
        UserNames names = new UserNames(redis, keys);
        Lease lease = new Lease(redis, keys, instance, LEASE_MILLIS);
        if (settings.telegramBotToken() != null) {
            // the token lives here, never in an endpoint's URI (LimiterSettings#telegramEndpoint)
            TelegramComponent telegram = half.bind("telegram", new TelegramComponent());
            telegram.setAuthorizationToken(settings.telegramBotToken());
            telegram.setBaseUri(settings.telegramApiUrl().toString());
        }
        Notifications notifications = new Notifications(settings.webhookUrl(), settings.webhookSecret(),
                settings.telegramEndpoint(), meters);
        Verdicts verdicts = new Verdicts(redis, keys, clock, meters);
        UserLimits limits = new UserLimits(redis, keys, settings.ipLimit(), settings.limitFile(), clock);
        Enforcement enforcement = new Enforcement(redis, keys, panel, names, limits, lease, settings.action(),
                settings.disableForMillis(), clock, notifications, verdicts, meters);
        DeviceGrouping grouping = new DeviceGrouping(settings.ipv4Prefix(), settings.ipv6Prefix(), settings.ignored(),
                settings.countForwarded());
        half.bind("eventConsumer", new EventConsumer(redis, keys, settings.queueKey(), settings.consumeBatch(),
                KEPT_TIMES * Math.max(1, settings.keptMillis() / 1000), clock, meters));
        DevicesAtOnce atOnce = new DevicesAtOnce(settings.sessionGapMillis(), settings.sessionLingerMillis());
        ViolationChecker checker = half.bind("violationChecker", new ViolationChecker(redis, keys, panel, names,
                grouping, atOnce, limits, enforcement, settings.keptMillis(), settings.violationGraceMillis(), clock,
                notifications, meters));
        Restorer restorer = half.bind("restorer", new Restorer(redis, keys, panel, lease, clock, notifications,
                verdicts, meters));
        boolean authenticated = settings.managementAuthFile() != null;
        UserInspection users = new UserInspection(redis, keys, names, checker, limits,
                new LimitChange(limits, authenticated), settings.keptMillis(), clock);
        half.management().serve(UserInspection.path(), users, UserInspection.methods());
        half.management().serve(Overview.PATH, new Overview(users, verdicts, meters, authenticated, clock), "GET");
        StatusPage page = new StatusPage();
        half.management().serve("/", page, "GET");
        half.management().serve(StatusPage.ASSETS + "*", page, "GET");
        if (settings.telegramChatId() != null) {
            half.bind("telegramPolling", new TelegramPolling(redis, keys, instance, settings.telegramBotToken()));
            half.bind("telegramCommands", new TelegramCommands(settings.telegramChatId(), users, restorer,
                    notifications, clock, meters));
        }
        NodeClocks nodeClocks = half.bind("nodeClocks", new NodeClocks(redis, half.keys(), keys, clock, notifications,
                meters));
        half.management().serve(NodeClocks.PATH, request -> nodeClocks.answer(), "GET");
        LimiterReadiness readiness = half.bind("limiterReadiness", new LimiterReadiness(redis, panel));
        Main main = half.main();
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
