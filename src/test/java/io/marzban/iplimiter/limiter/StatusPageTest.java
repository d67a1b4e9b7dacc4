package io.marzban.iplimiter.limiter;

import static io.marzban.iplimiter.limiter.Events.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.marzban.iplimiter.support.HeadlessChromium;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real browser (Debian's headless Chromium) against a running limiter: a user over its limit
 * appears with its devices, and a limit set from the page takes effect at the next check. The screenshot in
 * docs/images/status-page.png is the one this test leaves in target/status-page.png.
 */
class StatusPageTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final String CREDENTIALS = "ops:ops-secret";
    private static final String NODES_ANSWER = """
            const fetched = window.fetch;
            window.fetch = (path, options) => path !== "/observe/limiter/nodes" ? fetched(path, options)
              : Promise.resolve(new Response(JSON.stringify({nodes: [
                  {node_id: "n1", node_name: "de-fra-1", last_heartbeat: Date.now() / 1000 - 3,
                   heartbeat_age_seconds: 3, clock_offset_seconds: 7.2, lag_bytes: 4096, file: "/var/log/access.log",
                   version: "1.0.0", silent: false, clock_skewed: true},
                  {node_id: "nl-ams-2", node_name: "nl-ams-2", last_heartbeat: Date.now() / 1000 - 2,
                   heartbeat_age_seconds: 2, clock_offset_seconds: null, lag_bytes: 0, file: "/var/log/access.log",
                   version: "1.0.0", silent: false, clock_skewed: false}]}), {status: 200}));
            refresh()""";

    @TempDir
    Path dir;

    @Test
    void aUserOverItsLimitIsShownWithItsDevicesAndALimitSetOnThePageAppliesAtTheNextCheck() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            marzban.addUser("maria");
            String port = Ports.freeText();
            Path users = Files.writeString(dir.resolve("management.properties"), "user.ops = ops-secret\n");
            Map<String, String> env = LimiterEnv.of(redis, marzban, "MANAGEMENT_PORT", port,
                    "MANAGEMENT_AUTH_FILE", users.toString(), "VIOLATION_GRACE", "0.5", "CHECK_INTERVAL", "0.5");
            String page = "http://127.0.0.1:" + port + "/";
            try (RunningLimiter limiter = RunningLimiter.start(env)) {
                Events.push(redis, event("de-fra-1", "maria", "198.51.100.1"),
                        event("de-fra-1", "maria", "198.51.100.2"), event("nl-ams-2", "maria", "203.0.113.7"),
                        event("nl-ams-2", "ana", "192.0.2.10"));
                Wait.until("maria reported", LIMIT, () -> limiter.meter("marzban_limiter_violations") == 1);
                assertEquals(401, Http.get(page).statusCode(), "the page needs the API's credentials");

                try (HeadlessChromium chromium = HeadlessChromium.start(dir.resolve("chromium"), 1200, 900)) {
                    chromium.header("Authorization", HeadlessChromium.basic(CREDENTIALS));
                    chromium.open(page);
                    Wait.until("maria listed with her devices", LIMIT, () -> text(chromium, "#over tbody")
                            .contains("maria") && text(chromium, "#over tbody").contains("198.51.100.2")
                            && text(chromium, "#over tbody").contains("nl-ams-2")
                            && text(chromium, "#verdicts tbody").contains("reported"));
                    assertTrue(text(chromium, "#over tbody").contains("3 / 2"), text(chromium, "#over tbody"));
                    // no agent has sent a heartbeat: the nodes' answer is empty (it is drawn after the users)
                    Wait.until("no nodes yet", LIMIT, () -> text(chromium, "#nodes tbody").contains("No node data."));
                    assertTrue(chromium.text().contains("personal data"));

                    // the nodes' answer comes with node clocks (issue 20): its shape, answered inside the page
                    chromium.evaluate(NODES_ANSWER);
                    Wait.until("the nodes drawn", LIMIT, () -> text(chromium, "#nodes tbody").contains("de-fra-1")
                            && text(chromium, "#nodes tbody").contains("7.2 s (skewed)")
                            && text(chromium, "#nodes tbody").contains("4096 bytes"));

                    chromium.evaluate("document.querySelector('#over a.user').click()");
                    Wait.until("maria's devices on the timeline", LIMIT, () -> text(chromium, "#user-summary")
                            .contains("maria: 3 devices") && count(chromium, "#timeline circle") == 3);
                    chromium.screenshot(Path.of("target", "status-page.png"));

                    chromium.evaluate("document.getElementById('limit-value').value = '3';"
                            + "document.getElementById('limit-set').click()");
                    Wait.until("the page says the limit is set", LIMIT, () -> text(chromium, "#limit-result")
                            .contains("is 3 (set)"));
                    limiter.awaitChecks(2);
                    assertEquals(0, limiter.meter("marzban_limiter_users_over_limit"));
                    Wait.until("maria gone from the page's list", LIMIT, () -> text(chromium, "#over tbody")
                            .contains("No user is over its limit."));
                    assertTrue(limiter.logged("Limit of user maria: 2 -> 3, set by ops (management API from 127.0.0.1)"));
                }
            }
        }
    }

    private static String text(HeadlessChromium chromium, String selector) {
        try {
            JsonNode text = chromium.evaluate("(document.querySelector('" + selector + "') || {}).textContent || ''");
            return text == null ? "" : text.asText();
        } catch (Exception e) {
            return "";
        }
    }

    private static int count(HeadlessChromium chromium, String selector) {
        try {
            return chromium.evaluate("document.querySelectorAll('" + selector + "').length").asInt();
        } catch (Exception e) {
            return -1;
        }
    }
}
