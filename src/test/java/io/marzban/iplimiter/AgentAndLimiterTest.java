package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.agent.RunningAgent;
import io.marzban.iplimiter.limiter.Limiter;
import io.marzban.iplimiter.limiter.LimiterSettings;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.marzban.iplimiter.support.MarzbanStandIn.Flavor;
import io.marzban.iplimiter.support.MarzneshinStandIn;
import io.marzban.iplimiter.support.PanelStandIn;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.RunningMain;
import io.marzban.iplimiter.support.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both halves at once: two node agents follow their access logs, where each panel's nodes name users their own way
 * ({@code 42.maria}, or PasarGuard 5's bare {@code 42}); the limiter disables the user in the panel and restores it.
 */
class AgentAndLimiterTest {

    private static final DateTimeFormatter XRAY_TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS");

    @TempDir
    Path dir;

    enum Panel {
        MARZBAN, PASARGUARD_4, PASARGUARD_5, MARZNESHIN;

        PanelStandIn start() throws Exception {
            return this == MARZNESHIN ? MarzneshinStandIn.start() : MarzbanStandIn.start(Flavor.valueOf(name()));
        }
    }

    @ParameterizedTest
    @EnumSource(Panel.class)
    void aUserConnectingFromThreeAddressesThroughTwoNodesIsDisabledAndRestored(Panel kind) throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             PanelStandIn panel = kind.start()) {
            panel.addUser("maria");
            panel.addUser("ana");
            Path logA = Files.createFile(dir.resolve("a.log"));
            Path logB = Files.createFile(dir.resolve("b.log"));
            Map<String, String> limiterEnv = new HashMap<>(panel.env());
            limiterEnv.putAll(Map.of("CENTRAL_REDIS_URL", redis.url(), "MANAGEMENT_PORT", Ports.freeText(),
                    "LIMITER_ACTION", "disable", "IP_LIMIT", "2", "VIOLATION_GRACE", "1", "CHECK_INTERVAL", "0.2",
                    "DISABLE_FOR", "2"));
            try (RunningAgent nodeA = RunningAgent.start(agentEnv("node-a", logA, redis));
                 RunningAgent nodeB = RunningAgent.start(agentEnv("node-b", logB, redis));
                 RunningMain limiter = new RunningMain(Limiter.create(LimiterSettings.fromEnvironment(limiterEnv),
                         Clock.systemUTC()), "limiter-main")) {
                String maria = panel.email("maria");
                String ana = panel.email("ana");
                append(logA, accepted("198.51.100.1", maria), accepted("198.51.100.2", maria),
                        accepted("198.51.100.9", ana));
                append(logB, accepted("203.0.113.7", maria), accepted("198.51.100.9", ana));

                Wait.until("maria disabled", Duration.ofSeconds(60), () -> panel.status("maria").equals("disabled"));
                Wait.until("maria restored", Duration.ofSeconds(60), () -> panel.changes().size() >= 2);
                Wait.until("the queue consumed", Duration.ofSeconds(60), () -> redis.length("node_logs_queue") == 0);
                assertTrue(limiter.logged("Disabled user maria (id " + panel.id("maria") + ")"),
                        "the username read from the panel, with the id the log gave");
            }
            assertEquals(List.of("maria disabled", "maria active"), panel.changes());
            if (kind == Panel.PASARGUARD_5) {
                assertEquals("42", panel.email("maria"), "the node logs the id alone");
                assertEquals(2, ((MarzbanStandIn) panel).toggles(), "disabled and restored through the toggle");
            }
        }
    }

    private static Map<String, String> agentEnv(String node, Path log, RedisServer redis) {
        return Map.of("NODE_ID", node, "MANAGEMENT_PORT", Ports.freeText(), "CENTRAL_REDIS_URL", redis.url(),
                "ACCESS_LOG_PATH", log.toString(), "FLUSH_INTERVAL", "0.2");
    }

    private static String accepted(String address, String email) {
        return ZonedDateTime.now(ZoneOffset.UTC).format(XRAY_TIME) + " from " + address + ":40112 accepted "
                + "tcp:www.example.com:443 [VLESS TCP REALITY >> DIRECT] email: " + email;
    }

    private static void append(Path log, String... lines) throws Exception {
        Files.writeString(log, String.join("\n", lines) + "\n", StandardOpenOption.APPEND);
    }
}
