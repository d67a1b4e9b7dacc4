package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.agent.RunningAgent;
import io.marzban.iplimiter.limiter.Limiter;
import io.marzban.iplimiter.limiter.LimiterSettings;
import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.RunningMain;
import io.marzban.iplimiter.support.TelegramStandIn;
import io.marzban.iplimiter.support.Wait;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * What monitoring/ ships: the alert rules pass {@code promtool check rules} and their unit tests, and every meter
 * the Grafana dashboard or a rule names is exported by a running agent or limiter.
 */
class MonitoringTest {

    private static final Path MONITORING = Path.of("monitoring");
    private static final Duration LIMIT = Duration.ofSeconds(60);
    /** Made by Prometheus itself for each target, not by us. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");
    private static final Pattern METER = Pattern.compile("\\b(up|(?:marzban|process|jvm|camel)_[a-z0-9_]+)\\b");

    @TempDir
    Path dir;

    @Test
    void theAlertRulesAreValidAndFireAsTheirTestsSay() throws Exception {
        assertEquals("", promtool("check", "rules", "alerts.yml"));
        assertEquals("", promtool("test", "rules", "alerts.test.yml"));
        assertEquals("", promtool("check", "config", "prometheus.yml"));
    }

    @Test
    void everyMeterTheDashboardAndTheRulesNameIsExported() throws Exception {
        Set<String> named = new TreeSet<>();
        for (JsonNode panel : new ObjectMapper().readTree(MONITORING.resolve("grafana-dashboard.json").toFile())
                .path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                named.addAll(meters(target.path("expr").asText()));
            }
        }
        Set<String> inRules = new TreeSet<>();
        for (String line : Files.readAllLines(MONITORING.resolve("alerts.yml"))) {
            if (line.trim().startsWith("expr:")) {
                inRules.addAll(meters(line));
            }
        }
        assertTrue(named.size() > 20 && inRules.size() > 8, named + " " + inRules);

        String exported = scrapeBothHalves();
        Set<String> missing = new TreeSet<>();
        for (String meter : union(named, inRules)) {
            if (!PROMETHEUS_OWN.contains(meter)
                    && !Pattern.compile("(?m)^" + meter + "[{ ]").matcher(exported).find()) {
                missing.add(meter);
            }
        }
        assertEquals(Set.of(), missing, "named in monitoring/ but not exported");
    }

    /**
     * An agent and a limiter that has notified (Telegram), counted a bot command, an event from the future and the
     * agent's heartbeat, scraped together.
     */
    private String scrapeBothHalves() throws Exception {
        Path log = Files.createFile(dir.resolve("access.log"));
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start();
             TelegramStandIn telegram = TelegramStandIn.start("1:token")) {
            String agentPort = Ports.freeText();
            String limiterPort = Ports.freeText();
            Map<String, String> limiterEnv = new HashMap<>(Map.of("CENTRAL_REDIS_URL", redis.url(),
                    "MARZBAN_URL", marzban.url(), "MARZBAN_USERNAME", MarzbanStandIn.ADMIN,
                    "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD, "MANAGEMENT_PORT", limiterPort,
                    "VIOLATION_GRACE", "0", "CHECK_INTERVAL", "0.2", "IP_LIMIT", "1",
                    "TELEGRAM_BOT_TOKEN_FILE", Files.writeString(dir.resolve("token"), "1:token").toString(),
                    "TELEGRAM_CHAT_ID", "5"));
            limiterEnv.put("TELEGRAM_API_URL", telegram.url());
            try (RunningAgent agent = RunningAgent.start(AgentEnv.of(redis.url(), log, "MANAGEMENT_PORT", agentPort));
                 RunningMain limiter = new RunningMain(Limiter.create(LimiterSettings.fromEnvironment(limiterEnv),
                         Clock.systemUTC()), "limiter-main")) {
                String limiterMetrics = "http://127.0.0.1:" + limiterPort + "/observe/metrics";
                Wait.until("the limiter answers", LIMIT, () -> text(limiterMetrics).contains("marzban_limiter_checks"));
                try (Jedis jedis = redis.client()) {
                    jedis.lpush(RedisServer.QUEUE, event("198.51.100.1", 0), event("198.51.100.2", 0),
                            event("198.51.100.3", 3600));
                }
                telegram.receive(5, "ops", "/over");
                Wait.until("a notification and a command counted", LIMIT, () -> text(limiterMetrics)
                        .contains("marzban_limiter_notifications_total{channel=\"telegram\",result=\"sent\"}")
                        && text(limiterMetrics).contains("result=\"answered\"} 1.0")
                        && text(limiterMetrics).contains("marzban_limiter_events_from_future_total{")
                        && text(limiterMetrics).contains("marzban_limiter_node_clock_offset_seconds{"));
                return text("http://127.0.0.1:" + agentPort + "/observe/metrics") + text(limiterMetrics);
            }
        }
    }

    private static String event(String address, int secondsAhead) {
        return "{\"timestamp\":" + (System.currentTimeMillis() / 1000.0 + secondsAhead) + ",\"node_id\":\"node-a\",\"node_name\":"
                + "\"node-a\",\"email\":\"1.maria\",\"client_ip\":\"" + address + "\",\"raw_line\":\"\","
                + "\"processed_at\":" + System.currentTimeMillis() / 1000.0 + ",\"username\":\"maria\","
                + "\"forwarded\":false}";
    }

    private static Set<String> meters(String expression) {
        Set<String> meters = new TreeSet<>();
        Matcher matcher = METER.matcher(expression.replaceAll("\\{\\{[^}]*}}", ""));
        while (matcher.find()) {
            meters.add(matcher.group(1));
        }
        return meters;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    private static String text(String url) {
        HttpResponse<String> response = Http.get(url);
        return response == null ? "" : response.body();
    }

    /** Runs promtool in monitoring/; its output if it failed, else "". */
    private static String promtool(String... arguments) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("promtool"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(MONITORING.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        return process.waitFor() == 0 ? "" : output;
    }
}
