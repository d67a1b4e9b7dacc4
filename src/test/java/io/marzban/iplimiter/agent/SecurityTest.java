package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.agent.AgentSettings;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.AgentProcess;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisClusterNodes;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.SentinelGroup;
import io.marzban.iplimiter.support.TestCertificates;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/** TLS, Redis ACLs and secrets, against real redis-server processes. */
class SecurityTest {

    /** What a node needs on the central Redis, and nothing more (docs/SECURITY.md). */
    static final String NODE_ACL = "reset on >%s ~node_logs_queue ~{node_logs_queue}:position:node-1:* "
            + "~{node_logs_queue}:heartbeat:node-1 "
            + "resetchannels -@all +multi +exec +discard +lpush +llen +get +set +del +ping +client|setname";

    @TempDir
    static Path certDir;
    static TestCertificates certificates;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certificates = TestCertificates.create(certDir);
    }

    private Map<String, String> env(String url, String... pairs) throws Exception {
        Path log = dir.resolve("access.log");
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        return AgentEnv.with(AgentEnv.of(url, log, "FLUSH_INTERVAL", "0.1", "START_POSITION", "beginning"), pairs);
    }

    // ---- TLS ----

    @Test
    void shipsOverTlsToAServerSignedByTheConfiguredCa() throws Exception {
        try (RedisServer redis = RedisServer.startWithTls(dir, certificates, "server", false)) {
            List<String> lines = AccessLines.numbered(0, 20);
            try (RunningAgent agent = RunningAgent.start(env("rediss://localhost:" + redis.tlsPort() + "/0",
                    "CENTRAL_REDIS_CA_FILE", certificates.ca().toString()))) {
                LogFile.append(dir.resolve("access.log"), lines);
                redis.awaitEvents(20, Duration.ofSeconds(30));
            }
            assertEquals(lines, redis.rawLines("node_logs_queue"));
        }
    }

    @Test
    void refusesAServerWhoseCertificateIsNotTrusted() throws Exception {
        try (RedisServer redis = RedisServer.startWithTls(dir, certificates, "server", false)) {
            String error = connectionError(env("rediss://localhost:" + redis.tlsPort() + "/0"));
            assertTrue(error.contains("TLS handshake failed: unable to find valid certification path"), error);
            assertTrue(error.contains("check CENTRAL_REDIS_CA_FILE"), error);
        }
    }

    @Test
    void refusesACertificateForAnotherHostUnlessOnlyTheCaIsChecked() throws Exception {
        try (RedisServer redis = RedisServer.startWithTls(dir, certificates, "other-host", false)) {
            String url = "rediss://localhost:" + redis.tlsPort() + "/0";
            String error = connectionError(env(url, "CENTRAL_REDIS_CA_FILE", certificates.ca().toString()));
            assertTrue(error.contains("TLS handshake failed: No subject alternative DNS name matching localhost"), error);

            assertEquals("PONG", ping(env(url, "CENTRAL_REDIS_CA_FILE", certificates.ca().toString(),
                    "CENTRAL_REDIS_TLS_VERIFY", "ca")));
        }
    }

    @Test
    void mutualTlsNeedsTheClientCertificate() throws Exception {
        try (RedisServer redis = RedisServer.startWithTls(dir, certificates, "server", true)) {
            String url = "rediss://127.0.0.1:" + redis.tlsPort() + "/0";
            String ca = certificates.ca().toString();
            assertThrows(RuntimeException.class, () -> ping(env(url, "CENTRAL_REDIS_CA_FILE", ca)));

            assertEquals("PONG", ping(env(url, "CENTRAL_REDIS_CA_FILE", ca,
                    "CENTRAL_REDIS_CERT_FILE", certificates.cert("client").toString(),
                    "CENTRAL_REDIS_KEY_FILE", certificates.key("client").toString())));
        }
    }

    @Test
    void aClientKeyThatIsNotTheCertificatesOrIsDamagedIsRefusedAtStart() throws Exception {
        String url = "rediss://localhost:6380/0";
        Map<String, String> mismatched = env(url, "CENTRAL_REDIS_CERT_FILE", certificates.cert("client").toString(),
                "CENTRAL_REDIS_KEY_FILE", certificates.key("server").toString());
        String error = assertThrows(SettingsException.class, () -> AgentSettings.fromEnvironment(mismatched)).getMessage();
        assertTrue(error.contains("is not the key of the certificate in CENTRAL_REDIS_CERT_FILE"), error);

        String pem = Files.readString(certificates.key("client"));
        Path damaged = Files.writeString(dir.resolve("damaged.key"), pem.replaceFirst("\n[A-Za-z0-9+/]{10}", "\nA="));
        Map<String, String> broken = env(url, "CENTRAL_REDIS_CERT_FILE", certificates.cert("client").toString(),
                "CENTRAL_REDIS_KEY_FILE", damaged.toString());
        error = assertThrows(SettingsException.class, () -> AgentSettings.fromEnvironment(broken)).getMessage();
        assertTrue(error.startsWith("CENTRAL_REDIS_KEY_FILE='" + damaged + "'"), error);
    }

    // ---- authentication and ACL ----

    @Test
    void aNodeUserWithTheMinimalAclShipsAndCannotReadAnythingElse() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            addNodeUser(redis, "node-secret");
            try (Jedis admin = redis.client()) {
                admin.set("other_node_data", "private");
            }
            Path passwordFile = Files.writeString(dir.resolve("password"), "node-secret\n");
            List<String> lines = AccessLines.numbered(0, 30);
            try (RunningAgent agent = RunningAgent.start(env("redis://node-1@127.0.0.1:" + redis.port() + "/0",
                    "CENTRAL_REDIS_PASSWORD_FILE", passwordFile.toString()))) {
                LogFile.append(dir.resolve("access.log"), lines);
                redis.awaitEvents(30, Duration.ofSeconds(30));
            }
            assertEquals(lines, redis.rawLines("node_logs_queue"));

            try (Jedis node = redis.client()) {
                assertTrue(node.exists("{node_logs_queue}:heartbeat:node-1"));
                node.auth("node-1", "node-secret");
                assertThrows(JedisDataException.class, () -> node.get("other_node_data"));
                assertThrows(JedisDataException.class, () -> node.lrange("node_logs_queue", 0, -1));
                assertThrows(JedisDataException.class, () -> node.get("{node_logs_queue}:position:node-2:/x"));
                assertThrows(JedisDataException.class, () -> node.keys("*"));
            }
        }
    }



    @Test
    void onAClusterTheNodeUserNeedsOnlyClusterSlotsBesidesTheMinimalAcl() throws Exception {
        try (RedisClusterNodes cluster = RedisClusterNodes.start(Files.createDirectories(dir.resolve("cluster")))) {
            for (RedisServer node : cluster.nodes()) { // ACL users are per node in a cluster
                try (Jedis admin = node.client()) {
                    admin.aclSetUser("node-1", String.format(NODE_ACL + " +cluster|slots", "node-secret").split(" "));
                }
            }
            List<String> lines = AccessLines.numbered(0, 30);
            String url = cluster.url().replace("redis-cluster://", "redis-cluster://node-1:node-secret@");
            RedisServer owner = cluster.ownerOf(RedisServer.QUEUE);
            try (RunningAgent agent = RunningAgent.start(env(url))) {
                LogFile.append(dir.resolve("access.log"), lines);
                owner.awaitEvents(30, Duration.ofSeconds(30));
            }
            assertEquals(lines, owner.rawLines(RedisServer.QUEUE));
        }
    }

    @Test
    void sentinelsThatAskForAPasswordGetTheOneInTheSentinelPasswordFile() throws Exception {
        try (SentinelGroup redis = SentinelGroup.start(dir.resolve("redis"), "sentinel-secret")) {
            Path sentinelPassword = Files.writeString(dir.resolve("sentinel-password"), "sentinel-secret\n");
            List<String> lines = AccessLines.numbered(0, 30);
            try (RunningAgent agent = RunningAgent.start(env(redis.url(), "CENTRAL_REDIS_SENTINEL_PASSWORD_FILE",
                    sentinelPassword.toString()))) {
                LogFile.append(dir.resolve("access.log"), lines);
                redis.master().awaitEvents(30, Duration.ofSeconds(30));
                assertFalse(agent.logged("sentinel-secret"));
            }
            assertEquals(lines, redis.master().rawLines(RedisServer.QUEUE));
        }
    }

    // ---- the management server ----

    @Test
    void theManagementServerAnswersOnLoopbackAndAsksForCredentialsWhenConfigured() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            String open = Ports.freeText();
            try (RunningAgent agent = RunningAgent.start(env(redis.url(), "MANAGEMENT_PORT", open))) {
                assertEquals(200, Http.get("http://127.0.0.1:" + open + "/observe/health", null).statusCode());
            }
            Path users = Files.writeString(dir.resolve("management.properties"), "user.ops = ops-secret\n");
            String guarded = Ports.freeText();
            try (RunningAgent agent = RunningAgent.start(env(redis.url(), "MANAGEMENT_PORT", guarded,
                    "MANAGEMENT_AUTH_FILE", users.toString()))) {
                String health = "http://127.0.0.1:" + guarded + "/observe/health";
                assertEquals(401, Http.get(health, null).statusCode());
                assertEquals(401, Http.get(health, "ops:wrong").statusCode());
                HttpResponse<String> allowed = Http.get(health, "ops:ops-secret");
                assertEquals(200, allowed.statusCode());
                assertTrue(allowed.body().contains("UP"), allowed.body());
            }
        }
    }


    // ---- secrets never leak ----

    @Test
    void noOutputOfAFullRunContainsThePassword() throws Exception {
        String secret = "Zq7-leak-canary-4Fh9";
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            addNodeUser(redis, secret);
            String url = "redis://node-1:" + secret + "@127.0.0.1:" + redis.port() + "/0";
            String managementPort = Ports.freeText();
            Map<String, String> env = env(url, "RETRY_DELAY", "0.1", "MAX_RETRY_DELAY", "0.3", "REDIS_TIMEOUT", "1",
                    "LOG_LEVEL", "DEBUG", "MANAGEMENT_PORT", managementPort);
            AgentProcess agent = AgentProcess.start(env, dir.resolve("run.out"));
            agent.awaitOutput("at offset");
            LogFile.append(dir.resolve("access.log"), AccessLines.numbered(0, 10));
            redis.awaitEvents(10, Duration.ofSeconds(30));
            redis.stop(); // failures, with their messages, while Redis is away
            LogFile.append(dir.resolve("access.log"), AccessLines.numbered(10, 20));
            agent.awaitOutput("Failed delivery");
            HttpResponse<String> info = Http.get("http://127.0.0.1:" + managementPort + "/observe/info", null);
            assertEquals(200, info.statusCode(), "the info endpoint is there to be checked");
            String health = Http.get("http://127.0.0.1:" + managementPort + "/observe/health?data=true", null).body()
                    + info.body() + Http.get("http://127.0.0.1:" + managementPort + "/observe/metrics", null).body();
            assertFalse(health.contains(secret), "the password appears in a management answer:\n" + health);
            redis.start();
            addNodeUser(redis, secret); // ACL users live in memory, not in the append-only file
            redis.awaitEvents(20, Duration.ofSeconds(30));
            assertEquals(0, agent.terminate());

            env.put("CENTRAL_REDIS_URL", "redis://node-1:" + secret + "x@127.0.0.1:" + redis.port() + "/0");
            AgentProcess wrongPassword = AgentProcess.start(env, dir.resolve("wrong.out"));
            wrongPassword.awaitOutput("WRONGPASS");
            assertEquals(0, wrongPassword.terminate());

            for (Path output : List.of(dir.resolve("run.out"), dir.resolve("wrong.out"))) {
                String text = Files.readString(output);
                assertFalse(text.contains(secret), "the password appears in " + output + ":\n" + text);
                assertTrue(text.contains("node-1:***@127.0.0.1"), "the masked URL is shown instead");
            }
        }
    }

    // ---- helpers ----

    private static void addNodeUser(RedisServer redis, String password) {
        try (Jedis admin = redis.client()) {
            admin.aclSetUser("node-1", String.format(NODE_ACL, password).split(" "));
        }
    }

    private static String ping(Map<String, String> env) {
        AgentSettings settings = AgentSettings.fromEnvironment(env);
        try (CentralRedis redis = new CentralRedis(settings.centralRedis(), settings.redisTls(), "test", 5_000,
                settings.queueKey())) {
            return redis.call(Jedis::ping);
        }
    }

    private static String connectionError(Map<String, String> env) {
        return assertThrows(RuntimeException.class, () -> ping(env)).getMessage();
    }
}
