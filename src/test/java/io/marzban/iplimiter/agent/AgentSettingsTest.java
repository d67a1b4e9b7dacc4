package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.RedisTls;
import io.marzban.iplimiter.config.SettingsException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentSettingsTest {

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("NODE_ID", "node-1", "CENTRAL_REDIS_URL", "redis://redis:6379/0"));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    @Test
    void defaultsMatchTheContract() {
        AgentSettings settings = AgentSettings.fromEnvironment(env());
        assertEquals("node-1", settings.nodeName());
        assertEquals("/var/lib/marzban-node/access.log", settings.accessLogPath());
        assertEquals(50, settings.batchSize());
        assertEquals(3000, settings.flushIntervalMillis());
        assertEquals(5, settings.maxRetries());
        assertEquals(2000, settings.retryDelayMillis());
        assertEquals("INFO", settings.logLevel());
        assertEquals("node_logs_queue", settings.queueKey());
        assertEquals("end", settings.startPosition());
        assertNull(settings.logTimezone(), "auto: learned from the log");
        assertEquals("127.0.0.1", settings.managementHost());
        assertEquals(9876, settings.managementPort());
        assertEquals(65536, settings.maxLineBytes());
        assertEquals("classpath:routes/agent.yaml", settings.routesIncludePattern());
        assertNull(settings.toProperties().getProperty("rotatedPattern"), "the tailer's own default, <file name>.*");
        assertEquals("5000", settings.toProperties().getProperty("rotationQuietMillis"));
    }

    @Test
    void acceptsOperatorSpellings(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("mine.yaml"), "- route: {}\n");
        AgentSettings settings = AgentSettings.fromEnvironment(env("FLUSH_INTERVAL", "0.5", "LOG_LEVEL", "debug",
                "START_POSITION", "Beginning", "LOG_TIMEZONE", "Europe/Moscow", "ROUTES_DIR", routes.toString()));
        assertEquals(500, settings.flushIntervalMillis());
        assertEquals("DEBUG", settings.logLevel());
        assertEquals("beginning", settings.startPosition());
        assertEquals(ZoneId.of("Europe/Moscow"), settings.logTimezone());
        assertNull(AgentSettings.fromEnvironment(env("LOG_TIMEZONE", "AUTO")).logTimezone());
        assertEquals("file:" + routes + "/*.yaml", settings.routesIncludePattern());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "NODE_ID|''|NODE_ID is empty",
        "NODE_ID|node 1|NODE_ID='node 1' contains a space",
        "BATCH_SIZE|abc|BATCH_SIZE='abc' is not a whole number; expected 1 to 10000 (default 50)",
        "BATCH_SIZE|0|BATCH_SIZE=0 is out of range",
        "FLUSH_INTERVAL|-1|FLUSH_INTERVAL=-1 is out of range",
        "FLUSH_INTERVAL|3s|FLUSH_INTERVAL='3s' is not a number of seconds",
        "FLUSH_INTERVAL|NaN|FLUSH_INTERVAL='NaN' is not a number of seconds",
        "MAX_RETRIES|-2|MAX_RETRIES=-2 is out of range",
        "RETRY_DELAY|soon|RETRY_DELAY='soon' is not a number of seconds",
        "LOG_LEVEL|LOUD|LOG_LEVEL='LOUD' is not one of DEBUG, ERROR, INFO, TRACE, WARN",
        "START_POSITION|middle|START_POSITION='middle' is not one of beginning, end",
        "LOG_TIMEZONE|Mars/Base|LOG_TIMEZONE='Mars/Base' is not a time zone",
        "MANAGEMENT_PORT|70000|MANAGEMENT_PORT=70000 is out of range",
        "CENTRAL_REDIS_URL|http://x|CENTRAL_REDIS_URL has scheme 'http'",
        "CENTRAL_REDIS_URL|redis://|CENTRAL_REDIS_URL is not a valid URL",
        "CENTRAL_REDIS_URL|redis://:pw@|CENTRAL_REDIS_URL has no host",
        "CENTRAL_REDIS_URL|redis://h:99999|CENTRAL_REDIS_URL has port '99999'",
        "CENTRAL_REDIS_URL|redis://h/abc|CENTRAL_REDIS_URL has database 'abc'",
        "CENTRAL_REDIS_URL|redis://h o|CENTRAL_REDIS_URL is not a valid URL",
        "QUEUE_KEY|my queue|QUEUE_KEY='my queue' contains a space or control character; expected a name such as node_logs_queue",
        "ROUTES_DIR|/no/such/dir|ROUTES_DIR='/no/such/dir' is not a directory",
        "ROTATED_PATTERN|access.log.[|ROTATED_PATTERN='access.log.[' is not a valid glob",
        "ROTATED_PATTERN|old/access.log.*|ROTATED_PATTERN='old/access.log.*' contains a '/'",
        "ROTATION_QUIET_PERIOD|0|ROTATION_QUIET_PERIOD=0 is out of range",
        "MAX_EVENTS_PER_SECOND|-5|MAX_EVENTS_PER_SECOND=-5 is out of range; expected 0 to 10000000 (default 0)",
        "SHIPPING_STUCK_AFTER|0|SHIPPING_STUCK_AFTER=0 is out of range",
        "LOG_FORMAT|xml|LOG_FORMAT='xml' is not one of json, text",
    })
    void rejectsABadValueWithOneLineNamingIt(String variable, String value, String expectedStart) {
        SettingsException error = assertThrows(SettingsException.class,
                () -> AgentSettings.fromEnvironment(env(variable, value)));
        assertTrue(error.getMessage().startsWith(expectedStart), error.getMessage());
        assertFalse(error.getMessage().contains("\n"));
    }

    @Test
    void aRoutesDirWithoutRoutesIsRefused(@TempDir Path empty) {
        SettingsException error = assertThrows(SettingsException.class,
                () -> AgentSettings.fromEnvironment(env("ROUTES_DIR", empty.toString())));
        assertTrue(error.getMessage().endsWith("has no *.yaml file; copy routes/agent.yaml there, or unset it for the "
                + "bundled route"), error.getMessage());
    }

    @Test
    void explainsEveryBadTlsOrPasswordSetting(@TempDir Path dir) throws Exception {
        Path notPem = Files.writeString(dir.resolve("ca.crt"), "not a certificate");
        Path pkcs1 = Files.writeString(dir.resolve("key.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        Path empty = Files.writeString(dir.resolve("password"), "\n");
        String tls = "rediss://central.example.net:6380/0";
        assertError("CENTRAL_REDIS_CA_FILE='" + notPem + "' is not a PEM certificate file",
                env("CENTRAL_REDIS_URL", tls, "CENTRAL_REDIS_CA_FILE", notPem.toString()));
        assertError("CENTRAL_REDIS_CA_FILE='/no/ca.crt' is not a readable file",
                env("CENTRAL_REDIS_URL", tls, "CENTRAL_REDIS_CA_FILE", "/no/ca.crt"));
        assertError("CENTRAL_REDIS_CERT_FILE and CENTRAL_REDIS_KEY_FILE go together",
                env("CENTRAL_REDIS_URL", tls, "CENTRAL_REDIS_KEY_FILE", pkcs1.toString()));
        assertError("CENTRAL_REDIS_CA_FILE, CENTRAL_REDIS_CERT_FILE and CENTRAL_REDIS_KEY_FILE only apply to a rediss://",
                env("CENTRAL_REDIS_CA_FILE", pkcs1.toString()));
        assertError("CENTRAL_REDIS_TLS_VERIFY='none' is not one of ca, full",
                env("CENTRAL_REDIS_URL", tls, "CENTRAL_REDIS_TLS_VERIFY", "none"));
        assertError("CENTRAL_REDIS_PASSWORD_FILE='" + empty + "' is empty",
                env("CENTRAL_REDIS_PASSWORD_FILE", empty.toString()));
        assertError("CENTRAL_REDIS_PASSWORD_FILE is set and CENTRAL_REDIS_URL holds a password too",
                env("CENTRAL_REDIS_URL", "redis://:inline@h", "CENTRAL_REDIS_PASSWORD_FILE", pkcs1.toString()));
    }

    @Test
    void withAPasswordFileTheUrlNamesTheUser(@TempDir Path dir) throws Exception {
        Path password = Files.writeString(dir.resolve("password"), "from-file\n");
        RedisEndpoint endpoint = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL", "redis://node-1@h:6379/0",
                "CENTRAL_REDIS_PASSWORD_FILE", password.toString())).centralRedis();
        assertEquals(new RedisEndpoint("h", 6379, false, "node-1", "from-file", 0), endpoint);
    }

    private static void assertError(String expectedStart, Map<String, String> env) {
        SettingsException error = assertThrows(SettingsException.class, () -> AgentSettings.fromEnvironment(env));
        assertTrue(error.getMessage().startsWith(expectedStart), error.getMessage());
    }

    @Test
    void requiresNodeIdAndRedisUrl() {
        Map<String, String> none = new HashMap<>();
        assertEquals("NODE_ID is not set; it is required",
                assertThrows(SettingsException.class, () -> AgentSettings.fromEnvironment(none)).getMessage());
        Map<String, String> noUrl = new HashMap<>(Map.of("NODE_ID", "n"));
        assertEquals("CENTRAL_REDIS_URL is not set; it is required",
                assertThrows(SettingsException.class, () -> AgentSettings.fromEnvironment(noUrl)).getMessage());
    }

    @Test
    void readsEveryPartOfTheRedisUrlAndNeverShowsThePassword() {
        RedisEndpoint full = AgentSettings.fromEnvironment(
                env("CENTRAL_REDIS_URL", "rediss://node%2D1:p%40ss@central.example.net:6380/3")).centralRedis();
        assertEquals(new RedisEndpoint("central.example.net", 6380, true, "node-1", "p@ss", 3), full);
        assertEquals("rediss://node-1:***@central.example.net:6380/3", full.toString());

        RedisEndpoint passwordOnly = AgentSettings.fromEnvironment(
                env("CENTRAL_REDIS_URL", "redis://:secret@marzban_redis")).centralRedis();
        assertEquals(new RedisEndpoint("marzban_redis", 6379, false, null, "secret", 0), passwordOnly);
        assertEquals("redis://:***@marzban_redis:6379/0", passwordOnly.toString());

        RedisEndpoint plus = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL", "redis://:a+b%2Fc@h")).centralRedis();
        assertEquals("a+b/c", plus.password());

        RedisEndpoint legacy = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL", "redis://secret@[::1]:7000")).centralRedis();
        assertEquals(new RedisEndpoint("::1", 7000, false, null, "secret", 0), legacy);

        RedisEndpoint open = AgentSettings.fromEnvironment(env()).centralRedis();
        assertNull(open.password());
        assertEquals("redis://redis:6379/0", open.toString());
    }

    @Test
    void readsSentinelAndClusterUrlsAndNeverShowsAPassword(@TempDir Path dir) throws Exception {
        RedisEndpoint sentinels = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL",
                "redis-sentinel://node-1:p%40ss@s1,s2:26380,[::1]/2#my%20master")).centralRedis();
        assertEquals(new RedisEndpoint(RedisEndpoint.Topology.SENTINEL, List.of(new RedisEndpoint.Node("s1", 26379),
                new RedisEndpoint.Node("s2", 26380), new RedisEndpoint.Node("::1", 26379)), "my master", false,
                "node-1", "p@ss", 2, null), sentinels);
        assertEquals("redis-sentinel://node-1:***@s1:26379,s2:26380,[::1]:26379/2#my master", sentinels.toString());

        Path sentinelPassword = Files.writeString(dir.resolve("sentinel-password"), "sentinel-secret\n");
        RedisEndpoint guarded = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL",
                "rediss-sentinel://:secret@s1#mymaster", "CENTRAL_REDIS_SENTINEL_PASSWORD_FILE",
                sentinelPassword.toString())).centralRedis();
        assertEquals("sentinel-secret", guarded.sentinelPassword());
        assertTrue(guarded.tls());
        assertEquals("rediss-sentinel://:***@s1:26379/0#mymaster", guarded.toString());

        RedisEndpoint cluster = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL",
                "rediss-cluster://node-1:secret@c1:7000,c2:7001")).centralRedis();
        assertEquals(RedisEndpoint.Topology.CLUSTER, cluster.topology());
        assertEquals(List.of(new RedisEndpoint.Node("c1", 7000), new RedisEndpoint.Node("c2", 7001)), cluster.nodes());
        assertEquals("rediss-cluster://node-1:***@c1:7000,c2:7001", cluster.toString());
        assertFalse(cluster.toString().contains("secret"));
    }

    @Test
    void badSentinelAndClusterUrlsAreRefusedWithTheirReason(@TempDir Path dir) throws Exception {
        assertError("CENTRAL_REDIS_URL names no master; expected the sentinels' master name",
                env("CENTRAL_REDIS_URL", "redis-sentinel://s1,s2"));
        assertError("CENTRAL_REDIS_URL has database '3'; a Redis Cluster has only database 0",
                env("CENTRAL_REDIS_URL", "redis-cluster://c1,c2/3"));
        assertError("CENTRAL_REDIS_URL names 2 hosts; a redis:// URL names one",
                env("CENTRAL_REDIS_URL", "redis://h1,h2"));
        assertError("CENTRAL_REDIS_URL ends in #mymaster; only a redis-sentinel:// URL names a master",
                env("CENTRAL_REDIS_URL", "redis-cluster://c1#mymaster"));
        assertError("CENTRAL_REDIS_URL has no host", env("CENTRAL_REDIS_URL", "redis-cluster://c1,,c2"));
        assertError("CENTRAL_REDIS_URL has port 'x'", env("CENTRAL_REDIS_URL", "redis-sentinel://s1:x#m"));
        assertError("CENTRAL_REDIS_URL has scheme 'redis-sentinels'",
                env("CENTRAL_REDIS_URL", "redis-sentinels://s1#m"));
        Path password = Files.writeString(dir.resolve("password"), "x");
        assertError("CENTRAL_REDIS_SENTINEL_PASSWORD_FILE only applies to a redis-sentinel://",
                env("CENTRAL_REDIS_SENTINEL_PASSWORD_FILE", password.toString()));
    }

    @Test
    void retriesDoubleForMaxRetriesThenSettleOnTheCap() {
        AgentSettings settings = AgentSettings.fromEnvironment(env("MAX_RETRIES", "5", "RETRY_DELAY", "2"));
        assertEquals("1:2000;2:4000;3:8000;4:16000;5:30000;6:30000", settings.retryDelayPattern());
        AgentSettings none = AgentSettings.fromEnvironment(env("MAX_RETRIES", "0", "MAX_RETRY_DELAY", "10"));
        assertEquals("1:10000", none.retryDelayPattern());
        AgentSettings sentinels = AgentSettings.fromEnvironment(env("CENTRAL_REDIS_URL", "redis-sentinel://s1#m"));
        assertEquals(5_000, sentinels.maxRetryDelayMillis(), "a promoted replica is found within 5 s");
    }
}
