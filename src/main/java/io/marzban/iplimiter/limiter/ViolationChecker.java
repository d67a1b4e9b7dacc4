package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.DevicesAtOnce.Crowd;
import io.marzban.iplimiter.limiter.panel.PanelClient;
import io.marzban.iplimiter.limiter.panel.PanelException;
import io.marzban.iplimiter.limiter.panel.UserRef;
import io.marzban.iplimiter.redis.CentralRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;

/**
 * Finds, for each recently seen user, the latest stretch with more of its devices online at once than its limit
 * ({@link DevicesAtOnce}), and keeps in Redis since when it lasts. A stretch that lasted VIOLATION_GRACE goes to
 * {@link Enforcement}; once no stretch may still be going on, the violation ends. Each decision is a function of
 * the user's stored connections and the time: checks that a restart or another instance repeats change nothing.
 */
public final class ViolationChecker {

    private static final Logger LOG = LoggerFactory.getLogger(ViolationChecker.class);
    /**
     * Users read, decided and written per round trip: a page's read is one script of a few milliseconds of Redis
     * time, short enough not to hold up the consume, and a check of 100,000 users takes about 200 round trips.
     */
    static final int PAGE = 500;

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final PanelClient panel;
    private final UserNames names;
    private final DevicesAtOnce atOnce;
    private final UserLimits limits;
    private final Enforcement enforcement;
    private final long keptMillis;
    private final long graceMillis;
    private final Clock clock;
    private final Notifications notifications;
    private final AtomicInteger tracked = new AtomicInteger();
    private final AtomicInteger overLimit = new AtomicInteger();
    private final Counter checks;
    private final Timer checkTime;
    private final AtomicInteger roundTrips = new AtomicInteger();
    private final StoredConnections stored;
    /** Only the check thread touches it. */
    private boolean panelAway;

    /** @param keptMillis how far back connections are looked at (and kept): see {@link Limiter} */
    public ViolationChecker(CentralRedis redis, LimiterKeys keys, PanelClient panel, UserNames names,
                            DeviceGrouping grouping, DevicesAtOnce atOnce, UserLimits limits, Enforcement enforcement,
                            long keptMillis,
                            long graceMillis, Clock clock, Notifications notifications, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.panel = panel;
        this.names = names;
        this.stored = new StoredConnections(redis, keys, grouping);
        this.atOnce = atOnce;
        this.limits = limits;
        this.enforcement = enforcement;
        this.keptMillis = keptMillis;
        this.graceMillis = graceMillis;
        this.clock = clock;
        this.notifications = notifications;
        Gauge.builder("marzban_limiter_users_tracked", tracked, AtomicInteger::get)
                .description("Users with connections still looked at, at the last check").register(meters);
        this.checks = Counter.builder("marzban_limiter_checks")
                .description("Checks of all recent users completed").register(meters);
        this.checkTime = Timer.builder("marzban_limiter_check")
                .description("Time a check of all recent users takes").register(meters);
        Gauge.builder("marzban_limiter_check_round_trips", roundTrips, AtomicInteger::get)
                .description("Redis round trips of the last check, besides those of acting on a violation")
                .register(meters);
        Gauge.builder("marzban_limiter_users_over_limit", overLimit, AtomicInteger::get)
                .description("Users over their limit at the last check").register(meters);
    }

    /** Checks every recently seen user, and every user still marked over; returns how many are over. */
    public int checkAll() {
        Timer.Sample started = Timer.start();
        probePanel();
        limits.refresh();
        long now = clock.millis();
        double from = (now - keptMillis) / 1000.0;
        Set<String> marked = new HashSet<>();
        List<String> users = redis.call(jedis -> {
            Pipeline pipeline = jedis.pipelined();
            pipeline.zremrangeByScore(keys.users(), "-inf", "(" + from);
            Response<List<String>> recent = pipeline.zrangeByScore(keys.users(), from, Double.POSITIVE_INFINITY);
            Response<List<String>> over = pipeline.zrange(keys.over(), 0, -1);
            Response<Set<String>> acted = pipeline.smembers(keys.acted());
            pipeline.sync();
            Set<String> all = new LinkedHashSet<>(recent.get());
            all.addAll(over.get());
            marked.addAll(over.get());
            // an act that finished after another instance ended the violation: cleared when the user is within
            marked.addAll(acted.get());
            return new ArrayList<>(all);
        });
        int trips = 1;
        int over = 0;
        List<List<String>> pages = new ArrayList<>();
        for (int first = 0; first < users.size(); first += PAGE) {
            pages.add(users.subList(first, Math.min(users.size(), first + PAGE)));
        }
        // the next page is read while this one is decided: Redis and this check work side by side
        CompletableFuture<Map<String, List<Device>>> next = pages.isEmpty() ? null : read(pages.get(0), from);
        for (int i = 0; i < pages.size(); i++) {
            Map<String, List<Device>> devices = StoredConnections.await(next);
            next = i + 1 < pages.size() ? read(pages.get(i + 1), from) : null;
            Page page = checkPage(pages.get(i), devices, marked, now);
            over += page.over();
            trips += page.roundTrips();
        }
        tracked.set(users.size());
        overLimit.set(over);
        roundTrips.set(trips);
        checks.increment();
        long nanos = started.stop(checkTime);
        LOG.debug("Checked {} users in {} ms and {} round trips; {} over the limit", users.size(),
                nanos / 1_000_000, trips, over);
        return over;
    }

    /** While the panel is away no decision is taken: this throws until it answers again, and notifies once. */
    private void probePanel() {
        try {
            panel.probeIfIdle();
            panelAway = false;
        } catch (PanelException e) {
            if (!panelAway) {
                panelAway = true;
                notifications.send("panel_error", Map.of("kind", e.kind().name().toLowerCase(Locale.ROOT),
                        "message", e.getMessage()));
            }
            throw e;
        }
    }

    /** The devices of the user's crowd lasting VIOLATION_GRACE or longer, on its connections as stored now. */
    private Optional<List<Device>> lastingCrowd(String user, int limit) {
        long now = clock.millis();
        return atOnce.current(devices(user, (now - keptMillis) / 1000.0), limit, now / 1000.0)
                .filter(crowd -> crowd.seconds() * 1000 >= graceMillis).map(Crowd::devices);
    }

    /** The user's devices with their connections since {@code from} (epoch seconds); older ones are forgotten. */
    List<Device> devices(String user, double from) {
        return stored.devices(List.of(user), from).get(user);
    }

    /** The devices of the page's users that have a limit, read on the reader thread. */
    private CompletableFuture<Map<String, List<Device>>> read(List<String> page, double from) {
        return stored.readAhead(page.stream().filter(user -> limits.limitOf(names.ref(user).name()).isPresent())
                .toList(), from);
    }

    /** What a page of users came to: how many are over, and how many round trips it took. */
    private record Page(int over, int roundTrips) {
    }

    /**
     * Decides a page of users on their devices, read in one round trip, and writes what changed in one more.
     * Only a user marked over or acted when the check began can end a violation; one marked since, by another
     * instance, is looked at in the next check.
     */
    private Page checkPage(List<String> page, Map<String, List<Device>> devices, Set<String> marked, long now) {
        Map<String, Crowd> crowds = new LinkedHashMap<>();
        Map<String, Integer> limitOfCrowd = new HashMap<>();
        List<String> within = new ArrayList<>();
        for (String user : page) {
            // per-user limits and people name users, the checker keys them (the panel's id where there is one)
            OptionalInt limit = limits.limitOf(names.ref(user).name());
            // a limit set live since the page was read counts from the next check
            List<Device> read = devices.get(user);
            Optional<Crowd> crowd = limit.isPresent() && read != null
                    ? atOnce.current(read, limit.getAsInt(), now / 1000.0) : Optional.empty();
            if (crowd.isPresent()) {
                crowds.put(user, crowd.get());
                limitOfCrowd.put(user, limit.getAsInt());
            } else if (marked.contains(user)) {
                within.add(user);
            }
        }
        int reads = devices.isEmpty() ? 0 : 1;
        if (crowds.isEmpty() && within.isEmpty()) {
            return new Page(0, reads);
        }
        Map<String, Long> ended = new HashMap<>();
        Map<String, Long> started = new HashMap<>();
        redis.call(jedis -> {
            Pipeline pipeline = jedis.pipelined();
            Map<String, Response<Long>> endings = new HashMap<>();
            Map<String, Response<Long>> starts = new HashMap<>();
            for (String user : within) {
                // acted goes first: a crash in between leaves the user over, and the next check ends it
                pipeline.srem(keys.acted(), user);
                endings.put(user, pipeline.zrem(keys.over(), user));
            }
            // the stretch's start is a function of the stored connections: every instance writes the same
            crowds.forEach((user, crowd) -> starts.put(user,
                    pipeline.zadd(keys.over(), Math.round(crowd.start() * 1000), user)));
            pipeline.sync();
            endings.forEach((user, response) -> ended.put(user, response.get()));
            starts.forEach((user, response) -> started.put(user, response.get()));
            return null;
        });
        within.stream().filter(user -> ended.get(user) > 0)
                .forEach(user -> LOG.info("User {} is within the limit again", names.ref(user)));
        crowds.forEach((user, crowd) -> {
            int limit = limitOfCrowd.get(user);
            UserRef ref = names.ref(user);
            if (crowd.seconds() * 1000 >= graceMillis) {
                enforcement.act(ref, limit, () -> lastingCrowd(user, limit));
            } else if (started.get(user) > 0) {
                LOG.info("User {} is over the limit ({} devices, limit {}); acting if it lasts {} ms: {}", ref,
                        crowd.devices().size(), limit, graceMillis, crowd.devices());
            }
        });
        return new Page(crowds.size(), reads + 1);
    }
}
