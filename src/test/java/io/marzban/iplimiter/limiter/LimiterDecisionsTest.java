package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.MarzbanStandIn.Flavor;
import io.marzban.iplimiter.support.MarzneshinStandIn;
import io.marzban.iplimiter.support.PanelStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Jedis;

/**
 * The limiter's decisions end to end: events in the real Redis queue, actions in each panel's stand-in. The same
 * decisions run against every panel API; the events name users as that panel's nodes log them.
 */
class LimiterDecisionsTest {

    @Nested
    class OnMarzban extends Decisions {
        @Override
        PanelStandIn startPanel() throws Exception {
            return MarzbanStandIn.start(Flavor.MARZBAN);
        }
    }

    @Nested
    class OnPasarGuard4 extends Decisions {
        @Override
        PanelStandIn startPanel() throws Exception {
            return MarzbanStandIn.start(Flavor.PASARGUARD_4);
        }
    }

    @Nested
    class OnPasarGuard5 extends Decisions {
        @Override
        PanelStandIn startPanel() throws Exception {
            return MarzbanStandIn.start(Flavor.PASARGUARD_5);
        }
    }

    @Nested
    class OnMarzneshin extends Decisions {
        @Override
        PanelStandIn startPanel() throws Exception {
            return MarzneshinStandIn.start();
        }
    }

    abstract static class Decisions {

        private static final Duration LIMIT = Duration.ofSeconds(60);
        /** A month ahead: an expiry that must survive the disable and the restore unchanged. */
        private static final long EXPIRE = System.currentTimeMillis() / 1000 + 30 * 86_400;

        @TempDir
        Path dir;
        private RedisServer redis;
        private PanelStandIn panel;

        abstract PanelStandIn startPanel() throws Exception;

        @BeforeEach
        void start() throws Exception {
            redis = RedisServer.start(dir);
            panel = startPanel();
        }

        @AfterEach
        void stop() throws Exception {
            panel.close();
            redis.close();
        }

        private Map<String, String> env(String... overrides) {
            Map<String, String> env = new HashMap<>(panel.env());
            env.putAll(Map.of("CENTRAL_REDIS_URL", redis.url(),
                    "MANAGEMENT_PORT", Ports.freeText(), "LIMITER_ACTION", "disable", "IP_LIMIT", "2",
                    "SESSION_GAP", "30", "VIOLATION_GRACE", "1", "CHECK_INTERVAL", "0.2"));
            env.put("DISABLE_FOR", "2");
            env.put("SESSION_LINGER", "5");
            for (int i = 0; i < overrides.length; i += 2) {
                env.put(overrides[i], overrides[i + 1]);
            }
            return env;
        }

        /** An event seen now by {@code node}: the user from {@code address}, named as the panel's nodes log it. */
        private String event(String node, String username, String address) {
            return Events.ofEmail(node, panel.email(username), address);
        }

        private String event(String node, String username, String address, double timestamp, boolean forwarded) {
            return Events.ofEmail(node, panel.email(username), address, timestamp, forwarded);
        }

        /** How the limiter's log names the user once the panel has shown it: {@code maria (id 42)}. */
        private String label(String username) {
            return username + " (id " + panel.id(username) + ")";
        }

        /** How the checker's log names the user before the panel was asked: PasarGuard 5's nodes give the id alone. */
        private String seenAs(String username) {
            return panel.email(username).contains(".") ? label(username) : "id " + panel.id(username);
        }

        /** Waits until the queue is empty and then for enough checks that any violation would have been acted on. */
        private void awaitCheckedPastGrace(RunningLimiter limiter) throws InterruptedException {
            Wait.until("the queue consumed", LIMIT, () -> redis.length(Events.QUEUE) == 0);
            limiter.awaitChecks(15); // 15 checks 0.2 s apart: past the 1 s grace
        }

        @Test
        void aUserSeenFromThreeAddressesOnTwoNodesIsDisabledThenRestoredAsItWas() throws Exception {
            panel.addUser("maria", "active", EXPIRE, 50_000_000_000L, 1_000);
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));

                Wait.until("maria disabled", LIMIT, () -> panel.status("maria").equals("disabled"));
                Wait.until("maria restored", LIMIT, () -> panel.changesOf("maria").size() >= 2);
            }
            assertEquals(List.of("maria disabled", "maria active"), panel.changesOf("maria").subList(0, 2));
            assertEquals(EXPIRE, panel.expire("maria"));
        }

        @Test
        void aLimiterRestartedInTheMiddleOfAViolationKeepsItsStartAndActsOnce() throws Exception {
            panel.addUser("maria");
            Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                    event("node-b", "maria", "203.0.113.7"));
            Double started;
            try (RunningLimiter limiter = RunningLimiter.start(env("VIOLATION_GRACE", "600"))) {
                Wait.until("the violation seen", LIMIT,
                        () -> limiter.logged("User " + seenAs("maria") + " is over the limit (3 devices"));
            }
            try (Jedis jedis = redis.client()) {
                started = jedis.zscore(Events.KEYS.over(), panel.key("maria"));
            }
            assertEquals(List.of(), panel.changes());

            try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
                Wait.until("maria disabled", LIMIT, () -> panel.status("maria").equals("disabled"));
                try (Jedis jedis = redis.client()) {
                    assertEquals(started, jedis.zscore(Events.KEYS.over(), panel.key("maria")),
                            "the same violation, the same start");
                }
            }
            try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
                limiter.awaitChecks(15);
            }
            assertEquals(List.of("maria disabled"), panel.changes(), "acted on once, whatever the restarts");
        }

        @Test
        void twoAddressesAreWithinTheLimit() throws Exception {
            panel.addUser("maria");
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-b", "maria", "203.0.113.7"),
                        event("node-b", "maria", "203.0.113.7"));
                awaitCheckedPastGrace(limiter);
                assertEquals(1, limiter.meter("marzban_limiter_users_tracked"));
            }
            assertEquals(List.of(), panel.changes());
        }

        @Test
        void threeAddressesOfOneIpv6Slash64AreOneDevice() throws Exception {
            panel.addUser("maria");
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "2001:db8:1:2::10"),
                        event("node-a", "maria", "2001:db8:1:2:aaaa::20"), event("node-b", "maria", "2001:db8:1:2::30"));
                awaitCheckedPastGrace(limiter);
            }
            assertEquals(List.of(), panel.changes());
        }

        @Test
        void connectionsOlderThanTheLimiterLooksAreForgottenUnjudged() throws Exception {
            panel.addUser("maria");
            // kept: SESSION_GAP 30 + SESSION_LINGER 5 + VIOLATION_GRACE 1 = 36 s; a node catching up after an outage
            double minuteAgo = System.currentTimeMillis() / 1000.0 - 60;
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1", minuteAgo, false),
                        event("node-a", "maria", "198.51.100.2", minuteAgo, false),
                        event("node-b", "maria", "203.0.113.7", minuteAgo, false),
                        event("node-b", "maria", "203.0.113.8"));
                awaitCheckedPastGrace(limiter);
            }
            assertEquals(List.of(), panel.changes());
            try (Jedis jedis = redis.client()) {
                List<String> kept = jedis.zrange(Events.KEYS.seen(panel.key("maria")), 0, -1);
                assertEquals(1, kept.size(), "connections out of sight are dropped");
                assertTrue(kept.get(0).startsWith("203.0.113.8@") && kept.get(0).endsWith("@node-b"), kept.toString());
            }
        }

        /**
         * A node whose Xray stamps +03:30 while its agent reads them as UTC (or whose clock is 3.5 h ahead): its
         * events count as of the moment they are counted, so a phone moving Wi-Fi -> LTE -> office is judged as on a
         * right node.
         */
        @ParameterizedTest
        @ValueSource(ints = {0, 12_600})
        void aPhoneMovingAcrossNetworksIsJudgedTheSameOnANodeStampingAhead(int secondsAhead) throws Exception {
            panel.addUser("maria");
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
                String user = "http://127.0.0.1:" + port + "/observe/limiter/users/" + panel.key("maria");
                Wait.until("Wi-Fi forgotten", LIMIT, () -> {
                    Events.push(redis, event("node-a", "maria", lte,
                            System.currentTimeMillis() / 1000.0 + secondsAhead, false));
                    return !Http.get(user).body().contains(wifi);
                });
                Events.push(redis, event("node-a", "maria", office,
                        System.currentTimeMillis() / 1000.0 + secondsAhead, false));
                awaitCheckedPastGrace(limiter);
                assertEquals(secondsAhead > 0, limiter.meter("marzban_limiter_events_from_future") >= 3);
            }
            assertEquals(List.of(), panel.changes());
        }

        @Test
        void ignoredAddressesAreNeverCounted() throws Exception {
            panel.addUser("maria");
            try (RunningLimiter limiter = RunningLimiter.start(env("IGNORE_CIDRS", "10.0.0.0/8, 2001:db8:ffff::/48"))) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "10.1.2.3"),
                        event("node-b", "maria", "10.200.0.1"), event("node-b", "maria", "2001:db8:ffff:1::1"),
                        event("node-b", "maria", "203.0.113.7"));
                awaitCheckedPastGrace(limiter);
            }
            assertEquals(List.of(), panel.changes());
        }

        @ParameterizedTest
        @ValueSource(booleans = {false, true})
        void forwardedAddressesCountOnlyWithCountForwarded(boolean countForwarded) throws Exception {
            panel.addUser("maria");
            double now = System.currentTimeMillis() / 1000.0;
            try (RunningLimiter limiter = RunningLimiter.start(env("COUNT_FORWARDED", Boolean.toString(countForwarded),
                    "DISABLE_FOR", "600"))) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7", now, true));
                if (countForwarded) {
                    Wait.until("maria disabled", LIMIT, () -> panel.status("maria").equals("disabled"));
                } else {
                    awaitCheckedPastGrace(limiter);
                }
            }
            assertEquals(countForwarded ? List.of("maria disabled") : List.of(), panel.changes());
        }

        @Test
        void aOneOffExtraAddressOnlineShorterThanTheGraceDoesNothing() throws Exception {
            panel.addUser("maria");
            try (RunningLimiter limiter = RunningLimiter.start(env("SESSION_GAP", "3", "SESSION_LINGER", "2",
                    "VIOLATION_GRACE", "6"))) {
                Events.push(redis, event("node-b", "maria", "203.0.113.7"));
                // the two usual devices keep connecting, the third was seen once
                while (!limiter.logged("User " + seenAs("maria") + " is within the limit again")) {
                    Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"));
                    Thread.sleep(300);
                }
                assertTrue(limiter.logged("User " + seenAs("maria") + " is over the limit (3 devices, limit 2)"));
            }
            assertEquals(List.of(), panel.changes());
        }

        @Test
        void aUserTheAdministratorDisabledIsLeftAloneAndNeverReEnabled() throws Exception {
            panel.addUser("maria", "disabled", EXPIRE, null, 0);
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("the violation handled", LIMIT, () -> limiter.logged("User " + label("maria")
                        + " is disabled in "));
                limiter.awaitChecks(15); // well past DISABLE_FOR: no restore either
            }
            assertEquals(List.of(), panel.changes());
            assertEquals("disabled", panel.status("maria"));
        }

        @Test
        void aUserTheAdministratorChangedWhileDisabledStaysDisabled() throws Exception {
            panel.addUser("maria", "active", EXPIRE, null, 0);
            try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "3"))) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("maria disabled", LIMIT, () -> panel.status("maria").equals("disabled"));
                panel.extendExpiry("maria", EXPIRE + 86_400); // the administrator extends it, still disabled

                Wait.until("the restore dropped", LIMIT, () -> limiter.logged("Not restoring user maria"));
            }
            assertEquals(List.of("maria disabled"), panel.changes());
            assertEquals("disabled", panel.status("maria"));
        }

        @Test
        void anOnHoldUserIsLeftAlone() throws Exception {
            panel.addOnHoldUser("maria", 30 * 86_400);
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("the violation handled", LIMIT, () -> limiter.logged("User " + label("maria")
                        + " is on_hold in "));
                limiter.awaitChecks(15);
            }
            assertEquals(List.of(), panel.changes());
            assertEquals("on_hold", panel.status("maria"));
        }

        @Test
        void aUserThatUsedUpItsDataWhileDisabledIsNotReEnabled() throws Exception {
            panel.addUser("maria", "active", EXPIRE, 1_000_000L, 10);
            try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "3"))) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("maria disabled", LIMIT, () -> panel.status("maria").equals("disabled"));
                panel.useTraffic("maria", 1_000_000L); // recorded traffic from connections still open

                Wait.until("the restore dropped", LIMIT, () -> limiter.logged("used up its data limit"));
            }
            assertEquals(List.of("maria disabled"), panel.changes());
        }

        @Test
        void whileThePanelIsDownReadingPausesAndTheDecisionIsMadeOnceItIsBack() throws Exception {
            panel.addUser("maria");
            try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
                panel.stop();
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("the panel found unreachable", LIMIT, () -> limiter.logged("unreachable"));
                Events.push(redis, event("node-b", "maria", "203.0.113.8"));
                Wait.until("another failed call", LIMIT, () -> limiter.meter("marzban_limiter_api_errors") > 1);
                // the first probe may find the panel away before or after the first three events are read
                long waiting = redis.length(Events.QUEUE);
                assertTrue(waiting >= 1, "the event pushed while the panel is away is not read");
                double failed = limiter.meter("marzban_limiter_api_errors");
                Wait.until("one more failed call", LIMIT, () -> limiter.meter("marzban_limiter_api_errors") > failed);
                assertEquals(waiting, redis.length(Events.QUEUE), "reading paused while the panel is away");

                panel.restart();
                Wait.until("maria disabled", LIMIT, () -> panel.status("maria").equals("disabled"));
                Wait.until("reading again", LIMIT, () -> redis.length(Events.QUEUE) == 0);
            }
            assertEquals(List.of("maria disabled"), panel.changes());
        }

        @Test
        void twoLimitersSideBySideDisableOncePerViolation() throws Exception {
            panel.addUser("maria");
            panel.addUser("ana");
            try (RunningLimiter first = RunningLimiter.start(env("DISABLE_FOR", "600"));
                 RunningLimiter second = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
                for (String user : List.of("maria", "ana")) {
                    Events.push(redis, event("node-a", user, "198.51.100.1"), event("node-a", user, "198.51.100.2"),
                            event("node-b", user, "203.0.113.7"));
                }
                Wait.until("both disabled", LIMIT, () -> panel.changes().size() >= 2);
                first.awaitChecks(15);
                second.awaitChecks(15);
                assertEquals(2, first.meter("marzban_limiter_disables") + second.meter("marzban_limiter_disables"));
            }
            assertEquals(List.of("ana disabled", "maria disabled"), panel.changes().stream().sorted().toList());
            try (Jedis jedis = redis.client()) {
                assertEquals(2, jedis.zcard(Events.KEYS.restores()));
            }
        }

        /** Marzban and PasarGuard before 5 delete the next plan of a PUT without it: the limiter carries it back. */
        @Test
        void aUserWithANextPlanKeepsItThroughTheDisableAndTheRestore() throws Exception {
            Assumptions.assumeTrue(panel instanceof MarzbanStandIn, "a panel with next plans");
            MarzbanStandIn marzban = (MarzbanStandIn) panel;
            marzban.addUser("maria", "active", EXPIRE, null, 0);
            marzban.giveNextPlan("maria");
            JsonNode nextPlan = marzban.user("maria").get("next_plan");
            try (RunningLimiter limiter = RunningLimiter.start(env())) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("maria disabled and restored", LIMIT, () -> marzban.changesOf("maria").size() >= 2);
            }
            assertEquals(List.of("maria disabled", "maria active"), marzban.changesOf("maria").subList(0, 2));
            assertEquals(nextPlan, marzban.user("maria").get("next_plan"));
        }

        /** USER_LIMITS_FILE names users; PasarGuard 5's nodes give only the id, so its username comes from the panel. */
        @Test
        void aUserWithALimitOfItsOwnIsNotDisabledUnderIt() throws Exception {
            panel.addUser("maria");
            Path limits = Files.writeString(dir.resolve("limits"), "maria 3\n");
            try (RunningLimiter limiter = RunningLimiter.start(env("USER_LIMITS_FILE", limits.toString()))) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                awaitCheckedPastGrace(limiter);
            }
            assertEquals(List.of(), panel.changes());
        }

        @Test
        void reportOnlyNeverChangesThePanel() throws Exception {
            panel.addUser("maria");
            try (RunningLimiter limiter = RunningLimiter.start(env("LIMITER_ACTION", "report"))) {
                Events.push(redis, event("node-a", "maria", "198.51.100.1"), event("node-a", "maria", "198.51.100.2"),
                        event("node-b", "maria", "203.0.113.7"));
                Wait.until("the violation reported", LIMIT, () -> limiter.meter("marzban_limiter_violations") == 1);
                limiter.awaitChecks(15);
                assertEquals(1, limiter.meter("marzban_limiter_violations"), "one report per violation");
            }
            assertEquals(List.of(), panel.changes());
        }

        @Test
        void usersOverSeveralPagesAreCheckedInAFewRoundTripsAndOnlyTheSharerIsActedOn() throws Exception {
            panel.addUser("zoe");
            int honest = ViolationChecker.PAGE * 2 + 200;
            List<String> events = new ArrayList<>();
            for (int i = 0; i < honest; i++) {
                // two phones of one household: within the limit of 2; never acted on, so never asked of the panel
                String email = (10_000 + i) + ".user" + i;
                events.add(Events.ofEmail("node-a", email, "198.51.100." + (i % 200 + 1)));
                events.add(Events.ofEmail("node-b", email, "203.0.113." + (i % 200 + 1)));
            }
            events.add(event("node-a", "zoe", "192.0.2.1"));
            events.add(event("node-a", "zoe", "192.0.2.2"));
            events.add(event("node-b", "zoe", "192.0.2.3"));
            Events.push(redis, events);
            try (RunningLimiter limiter = RunningLimiter.start(env("DISABLE_FOR", "600"))) {
                Wait.until("zoe disabled", LIMIT, () -> panel.status("zoe").equals("disabled"));
                awaitCheckedPastGrace(limiter);
                assertEquals(honest + 1, limiter.meter("marzban_limiter_users_tracked"));
                assertEquals(1, limiter.meter("marzban_limiter_users_over_limit"));
                int pages = (honest + 1 + ViolationChecker.PAGE - 1) / ViolationChecker.PAGE;
                // one read of the user list, then a read per page and a write where a verdict changed
                assertTrue(limiter.meter("marzban_limiter_check_round_trips") <= 1 + 2 * pages);
            }
            assertEquals(List.of("zoe disabled"), panel.changes());
        }
    }
}
