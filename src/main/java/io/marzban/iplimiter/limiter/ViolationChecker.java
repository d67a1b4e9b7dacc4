package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.limiter.DevicesAtOnce.Crowd;
import io.marzban.iplimiter.limiter.marzban.MarzbanApi;
import io.marzban.iplimiter.limiter.marzban.MarzbanException;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.redis.LuaScript;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
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
     * time, short enough not to hold up the consume, and a check of 100,000 users takes about 400 round trips.
     */
    static final int PAGE = 500;

    private final CentralRedis redis;
    private final LimiterKeys keys;
    private final MarzbanApi marzban;
    private final DeviceGrouping grouping;
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
    private final LuaScript connections = new LuaScript("/limiter/connections.lua");
    private final Executor reader = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "check-reader");
        thread.setDaemon(true);
        return thread;
    });
    /** Only the check thread touches it. */
    private boolean marzbanAway;

    /** @param keptMillis how far back connections are looked at (and kept): see {@link Limiter} */
    public ViolationChecker(CentralRedis redis, LimiterKeys keys, MarzbanApi marzban, DeviceGrouping grouping,
                            DevicesAtOnce atOnce, UserLimits limits, Enforcement enforcement, long keptMillis,
                            long graceMillis, Clock clock, Notifications notifications, MeterRegistry meters) {
        this.redis = redis;
        this.keys = keys;
        this.marzban = marzban;
        this.grouping = grouping;
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
        probeMarzban();
        limits.refresh();
        long now = clock.millis();
        double from = (now - keptMillis) / 1000.0;
        Set<String> wereOver = new HashSet<>();
        List<String> users = redis.call(jedis -> {
            Pipeline pipeline = jedis.pipelined();
            pipeline.zremrangeByScore(keys.users(), "-inf", "(" + from);
            Response<List<String>> recent = pipeline.zrangeByScore(keys.users(), from, Double.POSITIVE_INFINITY);
            Response<List<String>> over = pipeline.zrange(keys.over(), 0, -1);
            pipeline.sync();
            wereOver.addAll(over.get());
            Set<String> all = new LinkedHashSet<>(recent.get());
            all.addAll(wereOver);
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
            Map<String, List<Device>> devices = await(next);
            next = i + 1 < pages.size() ? read(pages.get(i + 1), from) : null;
            Page page = checkPage(pages.get(i), devices, wereOver, now);
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

    /** While Marzban is away no decision is taken: this throws until it answers again, and notifies once. */
    private void probeMarzban() {
        try {
            marzban.probeIfIdle();
            marzbanAway = false;
        } catch (MarzbanException e) {
            if (!marzbanAway) {
                marzbanAway = true;
                notifications.send("marzban_error", Map.of("kind", e.kind().name().toLowerCase(Locale.ROOT),
                        "message", e.getMessage()));
            }
            throw e;
        }
    }

    /** The user's devices with their connections since {@code from} (epoch seconds); older ones are forgotten. */
    List<Device> devices(String user, double from) {
        return redis.call(jedis -> devices(jedis, List.of(user), from)).get(user);
    }

    /** Each user's devices, read in one round trip: see {@code limiter/connections.lua}. */
    private Map<String, List<Device>> devices(Jedis jedis, List<String> users, double from) {
        List<String> userKeys = new ArrayList<>(users.size() * 2);
        for (String user : users) {
            userKeys.add(keys.seen(user));
            userKeys.add(keys.nodes(user));
        }
        List<?> stored = (List<?>) connections.run(jedis, userKeys, List.of(Double.toString(from)));
        Map<String, List<Device>> devices = new HashMap<>();
        for (int i = 0; i < users.size(); i++) {
            List<?> seenAndNodes = (List<?>) stored.get(i);
            List<?> seenFlat = (List<?>) seenAndNodes.get(0);
            List<?> nodesFlat = (List<?>) seenAndNodes.get(1);
            Map<String, Double> seen = new HashMap<>();
            for (int j = 0; j < seenFlat.size(); j += 2) {
                seen.put((String) seenFlat.get(j), Double.parseDouble((String) seenFlat.get(j + 1)));
            }
            Map<String, String> nodes = new HashMap<>();
            for (int j = 0; j < nodesFlat.size(); j += 2) {
                nodes.put((String) nodesFlat.get(j), (String) nodesFlat.get(j + 1));
            }
            devices.put(users.get(i), grouping.devices(seen, nodes));
        }
        return devices;
    }

    /** The devices of the page's users that have a limit, read on the reader thread. */
    private CompletableFuture<Map<String, List<Device>>> read(List<String> page, double from) {
        List<String> limited = page.stream().filter(user -> limits.limitOf(user).isPresent()).toList();
        if (limited.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return CompletableFuture.supplyAsync(() -> redis.call(jedis -> devices(jedis, limited, from)), reader);
    }

    private static Map<String, List<Device>> await(CompletableFuture<Map<String, List<Device>>> read) {
        try {
            return read.join();
        } catch (CompletionException e) {
            // the check fails as it would have on its own thread (Redis unreachable, moved...)
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    /** What a page of users came to: how many are over, and how many round trips it took. */
    private record Page(int over, int roundTrips) {
    }

    /**
     * Decides a page of users on their devices, read in one round trip, and writes what changed in one more.
     * Only a user marked over when the check began can end a violation; one marked since, by another instance, is
     * looked at in the next check.
     */
    private Page checkPage(List<String> page, Map<String, List<Device>> devices, Set<String> wereOver, long now) {
        Map<String, Crowd> crowds = new LinkedHashMap<>();
        List<String> within = new ArrayList<>();
        for (String user : page) {
            OptionalInt limit = limits.limitOf(user);
            Optional<Crowd> crowd = limit.isPresent()
                    ? atOnce.current(devices.get(user), limit.getAsInt(), now / 1000.0) : Optional.empty();
            if (crowd.isPresent()) {
                crowds.put(user, crowd.get());
            } else if (wereOver.contains(user)) {
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
                .forEach(user -> LOG.info("User {} is within the limit again", user));
        crowds.forEach((user, crowd) -> {
            int limit = limits.limitOf(user).getAsInt();
            if (crowd.seconds() * 1000 >= graceMillis) {
                enforcement.act(user, limit, crowd.devices());
            } else if (started.get(user) > 0) {
                LOG.info("User {} is over the limit ({} devices, limit {}); acting if it lasts {} ms: {}", user,
                        crowd.devices().size(), limit, graceMillis, crowd.devices());
            }
        });
        return new Page(crowds.size(), reads + 1);
    }
}
