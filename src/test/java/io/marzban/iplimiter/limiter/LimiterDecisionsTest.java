package io.marzban.iplimiter.limiter;

import static io.marzban.iplimiter.limiter.Events.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Jedis;

/** The limiter's decisions end to end: events in the real Redis queue, actions in the stand-in Marzban. */
class LimiterDecisionsTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    /** A month ahead: an expiry that must survive the disable and the restore unchanged. */
    private static final long EXPIRE = System.currentTimeMillis() / 1000 + 30 * 86_400;

    @TempDir
    Path dir;
    private RedisServer redis;
    private MarzbanStandIn marzban;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start(dir);
        marzban = MarzbanStandIn.start();
    }

    @AfterEach
    void stop() throws Exception {
        marzban.close();
        redis.close();
    }

    private Map<String, String> env(String... overrides) {
        Map<String, String> env = new HashMap<>(Map.of(
                "CENTRAL_REDIS_URL", redis.url(), "MARZBAN_URL", marzban.url(),
                "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                "MANAGEMENT_PORT", Ports.freeText(), "LIMITER_ACTION", "disable", "IP_LIMIT", "2",
                "SESSION_GAP", "30", "VIOLATION_GRACE", "1", "CHECK_INTERVAL", "0.2"));
        env.put("DISABLE_FOR", "2");
        env.put("SESSION_LINGER", "5");
        for (int i = 0; i < overrides.length; i += 2) {
            env.put(overrides[i], overrides[i + 1]);
        }
        return env;
    }

    /** Waits until the queue is empty and then for enough checks that any violation would have been acted on. */
    private void awaitCheckedPastGrace(RunningLimiter limiter) throws InterruptedException {
        Wait.until("the queue consumed", LIMIT, () -> redis.length(Events.QUEUE) == 0);
        limiter.awaitChecks(15); // 15 checks 0.2 s apart: past the 1 s grace
    }

    @Test
    void aUserSeenFromThreeAddressesOnTwoNodesIsDisabledThenRestoredAsItWas() throws Exception {
        marzban.addUser("maria", "active", EXPIRE, 50_000_000_000L, 1_000);
        try (RunningLimiter limiter = RunningLimiter.start(env())) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));

            Wait.until("maria disabled", LIMIT, () -> marzban.status("maria").equals("disabled"));
            Wait.until("maria restored", LIMIT, () -> marzban.changesOf("maria").size() >= 2);
        }
        assertEquals(List.of("maria disabled", "maria active"), marzban.changesOf("maria").subList(0, 2));
        assertEquals(EXPIRE, marzban.user("maria").get("expire").asLong());
    }

    @Test
    void aLimiterRestartedInTheMiddleOfAViolationKeepsItsStartAndActsOnce() throws Exception {
        marzban.addUser("maria");
        Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                event("node-b", "maria", "203.0.113.7"));
        Double started;
        try (RunningLimiter limiter = RunningLimiter.start(env("VIOLATION_GRACE", "600"))) {
            Wait.until("the violation seen", LIMIT, () -> limiter.logged("User maria is over the limit (3 devices"));
        }
        try (Jedis jedis = redis.client()) {
            started = jedis.zscore(Events.KEYS.over(), "maria");
        }
        assertEquals(List.of(), marzban.changes());

        try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
            Wait.until("maria disabled", LIMIT, () -> marzban.status("maria").equals("disabled"));
            try (Jedis jedis = redis.client()) {
                assertEquals(started, jedis.zscore(Events.KEYS.over(), "maria"), "the same violation, the same start");
            }
        }
        try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
            limiter.awaitChecks(15);
        }
        assertEquals(List.of("maria disabled"), marzban.changes(), "acted on once, whatever the restarts");
    }

    @Test
    void twoAddressesAreWithinTheLimit() throws Exception {
        marzban.addUser("maria");
        try (RunningLimiter limiter = RunningLimiter.start(env())) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-b", "maria", "203.0.113.7"),
                    event("node-b", "maria", "203.0.113.7"));
            awaitCheckedPastGrace(limiter);
            assertEquals(1, limiter.meter("marzban_limiter_users_tracked"));
        }
        assertEquals(List.of(), marzban.changes());
    }

    @Test
    void threeAddressesOfOneIpv6Slash64AreOneDevice() throws Exception {
        marzban.addUser("maria");
        try (RunningLimiter limiter = RunningLimiter.start(env())) {
            Events.push(redis, event("node-a", "maria", "2001:db8:1:2::10"),
                    event("node-a", "maria", "2001:db8:1:2:aaaa::20"), event("node-b", "maria", "2001:db8:1:2::30"));
            awaitCheckedPastGrace(limiter);
        }
        assertEquals(List.of(), marzban.changes());
    }

    @Test
    void connectionsOlderThanTheLimiterLooksAreForgottenUnjudged() throws Exception {
        marzban.addUser("maria");
        // kept: SESSION_GAP 30 + SESSION_LINGER 5 + VIOLATION_GRACE 1 = 36 s; a node catching up after an outage
        double minuteAgo = System.currentTimeMillis() / 1000.0 - 60;
        try (RunningLimiter limiter = RunningLimiter.start(env())) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1", minuteAgo, false),
                    event("node-a", "maria", "198.51.100.2", minuteAgo, false),
                    event("node-b", "maria", "203.0.113.7", minuteAgo, false),
                    event("node-b", "maria", "203.0.113.8"));
            awaitCheckedPastGrace(limiter);
        }
        assertEquals(List.of(), marzban.changes());
        try (Jedis jedis = redis.client()) {
            assertEquals(1, jedis.zcard(Events.KEYS.seen("maria")), "connections out of sight are dropped");
            assertTrue(jedis.zrange(Events.KEYS.seen("maria"), 0, -1).get(0).startsWith("203.0.113.8@"));
            assertEquals(1, jedis.hlen(Events.KEYS.nodes("maria")));
        }
    }

    /**
     * A node whose Xray stamps +03:30 while its agent reads them as UTC (or whose clock is 3.5 h ahead): its events
     * count as of the moment they are counted, so a phone moving Wi-Fi -> LTE -> office is judged as on a right node.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 12_600})
    void aPhoneMovingAcrossNetworksIsJudgedTheSameOnANodeStampingAhead(int secondsAhead) throws Exception {
        marzban.addUser("maria");
        String port = Ports.freeText();
        String wifi = "198.51.100.1";
        String lte = "203.0.113.7";
        String office = "192.0.2.50";
        try (RunningLimiter limiter = RunningLimiter.start(env("SESSION_GAP", "2", "SESSION_LINGER", "1",
                "MANAGEMENT_PORT", port));
             Jedis jedis = redis.client()) {
            jedis.set("{node_logs_queue}:heartbeat:node-a", String.format("{\"node_id\":\"node-a\",\"node_name\":"
                    + "\"node-a\",\"version\":\"1.0.0\",\"file\":\"/var/log/xray/access.log\",\"offset\":1,"
                    + "\"lag_bytes\":0,\"time\":%.6f}", System.currentTimeMillis() / 1000.0 + secondsAhead));
            String nodes = Http.get("http://127.0.0.1:" + port + "/observe/limiter/nodes").body();
            assertTrue(nodes.contains("\"node_id\":\"node-a\"") && nodes.contains("\"clock_skewed\":"
                    + (secondsAhead > 0)), nodes);

            for (String address : List.of(wifi, lte)) {
                Events.push(redis, event("node-a", "maria", address,
                        System.currentTimeMillis() / 1000.0 + secondsAhead, false));
                Wait.until("the event counted", LIMIT, () -> redis.length(Events.QUEUE) == 0);
            }
            // Wi-Fi is forgotten SESSION_GAP + SESSION_LINGER + VIOLATION_GRACE after it was counted, while the
            // phone, on LTE, keeps connecting; then it reaches the office
            String user = "http://127.0.0.1:" + port + "/observe/limiter/users/maria";
            Wait.until("Wi-Fi forgotten", LIMIT, () -> {
                Events.push(redis, event("node-a", "maria", lte, System.currentTimeMillis() / 1000.0 + secondsAhead,
                        false));
                return !Http.get(user).body().contains(wifi);
            });
            Events.push(redis, event("node-a", "maria", office,
                    System.currentTimeMillis() / 1000.0 + secondsAhead, false));
            awaitCheckedPastGrace(limiter);
            assertEquals(secondsAhead > 0, limiter.meter("marzban_limiter_events_from_future") >= 3);
        }
        assertEquals(List.of(), marzban.changes());
    }

    @Test
    void ignoredAddressesAreNeverCounted() throws Exception {
        marzban.addUser("maria");
        try (RunningLimiter limiter = RunningLimiter.start(env("IGNORE_CIDRS", "10.0.0.0/8, 2001:db8:ffff::/48"))) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "10.1.2.3"),
                    event("node-b", "maria", "10.200.0.1"), event("node-b", "maria", "2001:db8:ffff:1::1"),
                    event("node-b", "maria", "203.0.113.7"));
            awaitCheckedPastGrace(limiter);
        }
        assertEquals(List.of(), marzban.changes());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void forwardedAddressesCountOnlyWithCountForwarded(boolean countForwarded) throws Exception {
        marzban.addUser("maria");
        double now = System.currentTimeMillis() / 1000.0;
        try (RunningLimiter limiter = RunningLimiter.start(env("COUNT_FORWARDED", Boolean.toString(countForwarded),
                "DISABLE_FOR", "600"))) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7", now, true));
            if (countForwarded) {
                Wait.until("maria disabled", LIMIT, () -> marzban.status("maria").equals("disabled"));
            } else {
                awaitCheckedPastGrace(limiter);
            }
        }
        assertEquals(countForwarded ? List.of("maria disabled") : List.of(), marzban.changes());
    }

    @Test
    void aOneOffExtraAddressOnlineShorterThanTheGraceDoesNothing() throws Exception {
        marzban.addUser("maria");
        try (RunningLimiter limiter = RunningLimiter.start(env("SESSION_GAP", "3", "SESSION_LINGER", "2",
                "VIOLATION_GRACE", "6"))) {
            Events.push(redis, event("node-b", "maria", "203.0.113.7"));
            // the two usual devices keep connecting, the third was seen once
            while (!limiter.logged("User maria is within the limit again")) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"));
                Thread.sleep(300);
            }
            assertTrue(limiter.logged("User maria is over the limit (3 devices, limit 2)"));
        }
        assertEquals(List.of(), marzban.changes());
    }

    @Test
    void aUserTheAdministratorDisabledIsLeftAloneAndNeverReEnabled() throws Exception {
        marzban.addUser("maria", "disabled", EXPIRE, null, 0);
        try (RunningLimiter limiter = RunningLimiter.start(env())) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Wait.until("the violation handled", LIMIT, () -> limiter.logged("User maria is disabled in Marzban, not "
                    + "active: left alone"));
            limiter.awaitChecks(15); // well past DISABLE_FOR: no restore either
        }
        assertEquals(List.of(), marzban.changes());
        assertEquals("disabled", marzban.status("maria"));
    }

    @Test
    void aUserTheAdministratorChangedWhileDisabledStaysDisabled() throws Exception {
        marzban.addUser("maria", "active", EXPIRE, null, 0);
        try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "3"))) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Wait.until("maria disabled", LIMIT, () -> marzban.status("maria").equals("disabled"));
            marzban.admin("maria", "expire", EXPIRE + 86_400); // the administrator extends it, still disabled

            Wait.until("the restore dropped", LIMIT, () -> limiter.logged("Not restoring user maria"));
        }
        assertEquals(List.of("maria disabled"), marzban.changes());
        assertEquals("disabled", marzban.status("maria"));
    }

    @Test
    void anOnHoldUserIsLeftAlone() throws Exception {
        marzban.addOnHoldUser("maria", 30 * 86_400);
        try (RunningLimiter limiter = RunningLimiter.start(env())) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Wait.until("the violation handled", LIMIT, () -> limiter.logged("User maria is on_hold in Marzban"));
            limiter.awaitChecks(15);
        }
        assertEquals(List.of(), marzban.changes());
        assertEquals(30 * 86_400, marzban.user("maria").get("on_hold_expire_duration").asLong());
    }

    @Test
    void aUserThatUsedUpItsDataWhileDisabledIsNotReEnabled() throws Exception {
        marzban.addUser("maria", "active", EXPIRE, 1_000_000L, 10);
        try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "3"))) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Wait.until("maria disabled", LIMIT, () -> marzban.status("maria").equals("disabled"));
            marzban.admin("maria", "used_traffic", 1_000_000L); // recorded traffic from connections still open

            Wait.until("the restore dropped", LIMIT, () -> limiter.logged("used up its data limit"));
        }
        assertEquals(List.of("maria disabled"), marzban.changes());
    }

    @Test
    void whileMarzbanIsDownReadingPausesAndTheDecisionIsMadeOnceItIsBack() throws Exception {
        marzban.addUser("maria");
        try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
            marzban.stop();
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Wait.until("Marzban found unreachable", LIMIT, () -> limiter.logged("unreachable"));
            Events.push(redis, event("node-b", "maria", "203.0.113.8"));
            Wait.until("another failed call", LIMIT, () -> limiter.meter("marzban_limiter_api_errors") > 1);
            assertEquals(1, redis.length(Events.QUEUE), "reading paused while Marzban is away");

            marzban.restart();
            Wait.until("maria disabled", LIMIT, () -> marzban.status("maria").equals("disabled"));
            Wait.until("reading again", LIMIT, () -> redis.length(Events.QUEUE) == 0);
        }
        assertEquals(List.of("maria disabled"), marzban.changes());
    }

    @Test
    void twoLimitersSideBySideDisableOncePerViolation() throws Exception {
        marzban.addUser("maria");
        marzban.addUser("ana");
        try (RunningLimiter first = RunningLimiter.start(env("DISABLE_FOR", "600"));
             RunningLimiter second = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
            for (String user : List.of("maria", "ana")) {
                Events.push(redis, event("node-a", user, "198.51.100.1"), event("node-a", user, "198.51.100.2"),
                        event("node-b", user, "203.0.113.7"));
            }
            Wait.until("both disabled", LIMIT, () -> marzban.changes().size() >= 2);
            first.awaitChecks(15);
            second.awaitChecks(15);
            assertEquals(2, first.meter("marzban_limiter_disables") + second.meter("marzban_limiter_disables"));
        }
        assertEquals(List.of("ana disabled", "maria disabled"), marzban.changes().stream().sorted().toList());
        try (Jedis jedis = redis.client()) {
            assertEquals(2, jedis.zcard(Events.KEYS.restores()));
        }
    }

    @Test
    void usersOverSeveralPagesAreCheckedInAFewRoundTripsAndOnlyTheSharerIsActedOn() throws Exception {
        marzban.addUser("zoe");
        int honest = ViolationChecker.PAGE * 2 + 200;
        List<String> events = new ArrayList<>();
        for (int i = 0; i < honest; i++) {
            // two phones of one household: within the limit of 2
            events.add(event("node-a", "user" + i, "198.51.100." + (i % 200 + 1)));
            events.add(event("node-b", "user" + i, "203.0.113." + (i % 200 + 1)));
        }
        events.add(event("node-a", "zoe", "192.0.2.1"));
        events.add(event("node-a", "zoe", "192.0.2.2"));
        events.add(event("node-b", "zoe", "192.0.2.3"));
        Events.push(redis, events);
        try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
            Wait.until("zoe disabled", LIMIT, () -> marzban.status("zoe").equals("disabled"));
            awaitCheckedPastGrace(limiter);
            assertEquals(honest + 1, limiter.meter("marzban_limiter_users_tracked"));
            assertEquals(1, limiter.meter("marzban_limiter_users_over_limit"));
            int pages = (honest + 1 + ViolationChecker.PAGE - 1) / ViolationChecker.PAGE;
            // one read of the user list, then a read per page and a write where a verdict changed
            assertTrue(limiter.meter("marzban_limiter_check_round_trips") <= 1 + 2 * pages);
        }
        assertEquals(List.of("zoe disabled"), marzban.changes());
    }

    @Test
    void reportOnlyNeverChangesMarzban() throws Exception {
        marzban.addUser("maria");
        try (RunningLimiter limiter = RunningLimiter.start(env("LIMITER_ACTION", "report"))) {
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Wait.until("the violation reported", LIMIT, () -> limiter.meter("marzban_limiter_violations") == 1);
            limiter.awaitChecks(15);
            assertEquals(1, limiter.meter("marzban_limiter_violations"), "one report per violation");
        }
        assertEquals(List.of(), marzban.changes());
    }
}
