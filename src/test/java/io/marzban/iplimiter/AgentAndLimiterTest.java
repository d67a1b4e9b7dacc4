package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marzban.iplimiter.agent.RunningAgent;
import io.marzban.iplimiter.limiter.Limiter;
import io.marzban.iplimiter.limiter.LimiterSettings;
import io.marzban.iplimiter.support.MarzbanStandIn;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both halves at once: two node agents follow their access logs, the limiter disables the user in Marzban. */
class AgentAndLimiterTest {

    private static final DateTimeFormatter XRAY_TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS");

    @TempDir
    Path dir;

    @Test
    void aUserConnectingFromThreeAddressesThroughTwoNodesIsDisabled() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
             MarzbanStandIn marzban = MarzbanStandIn.start()) {
            marzban.addUser("maria");
            marzban.addUser("ana");
            Path logA = Files.createFile(dir.resolve("a.log"));
            Path logB = Files.createFile(dir.resolve("b.log"));
            Map<String, String> limiterEnv = Map.of("CENTRAL_REDIS_URL", redis.url(), "MARZBAN_URL", marzban.url(),
                    "MARZBAN_USERNAME", MarzbanStandIn.ADMIN, "MARZBAN_PASSWORD", MarzbanStandIn.PASSWORD,
                    "MANAGEMENT_PORT", Ports.freeText(), "LIMITER_ACTION", "disable", "IP_LIMIT", "2",
                    "VIOLATION_GRACE", "1", "CHECK_INTERVAL", "0.2");
            try (RunningAgent nodeA = RunningAgent.start(agentEnv("node-a", logA, redis));
                 RunningAgent nodeB = RunningAgent.start(agentEnv("node-b", logB, redis));
                 RunningMain limiter = new RunningMain(Limiter.create(LimiterSettings.fromEnvironment(limiterEnv),
                         Clock.systemUTC()), "limiter-main")) {
                append(logA, accepted("198.51.100.1", "17.maria"), accepted("198.51.100.2", "17.maria"),
                        accepted("198.51.100.9", "18.ana"));
                append(logB, accepted("203.0.113.7", "17.maria"), accepted("198.51.100.9", "18.ana"));

                Wait.until("maria disabled", Duration.ofSeconds(60), () -> marzban.status("maria").equals("disabled"));
                Wait.until("the queue consumed", Duration.ofSeconds(60), () -> redis.length("node_logs_queue") == 0);
            }
            assertEquals(List.of("maria disabled"), marzban.changes());
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
