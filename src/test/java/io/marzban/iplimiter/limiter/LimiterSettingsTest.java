package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.SettingsException;
import io.marzban.iplimiter.limiter.panel.PanelType;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The limiter's environment variables: defaults, files, and the one-line errors. */
class LimiterSettingsTest {

    @TempDir
    Path dir;

    private static Map<String, String> required() {
        return new HashMap<>(Map.of("CENTRAL_REDIS_URL", "redis://127.0.0.1:6379/0",
                "MARZBAN_URL", "https://panel.example.com:8000/", "MARZBAN_USERNAME", "admin",
                "MARZBAN_PASSWORD", "hunter2"));
    }

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        LimiterSettings settings = LimiterSettings.fromEnvironment(required());

        assertEquals("node_logs_queue", settings.queueKey());
        assertEquals(URI.create("https://panel.example.com:8000"), settings.panel().url());
        assertEquals(null, settings.panel().type(), "PANEL_TYPE=auto");
        assertEquals(2, settings.ipLimit());
        assertEquals(null, settings.limitFile());
        assertEquals(300_000, settings.sessionGapMillis());
        assertEquals(30_000, settings.sessionLingerMillis());
        assertEquals(60_000, settings.violationGraceMillis());
        assertEquals(LimiterSettings.Action.REPORT, settings.action());
        assertEquals(600_000, settings.disableForMillis());
        assertEquals(10_000, settings.checkIntervalMillis());
        assertEquals(32, settings.ipv4Prefix());
        assertEquals(64, settings.ipv6Prefix());
        assertEquals(List.of(), settings.ignored());
        assertFalse(settings.countForwarded());
        assertEquals(9877, settings.managementPort());
        assertFalse(settings.toString().contains("hunter2"), settings.toString());
    }

    @Test
    void thePasswordAndTheUserLimitsComeFromFiles() throws Exception {
        Map<String, String> env = required();
        env.remove("MARZBAN_PASSWORD");
        env.put("MARZBAN_PASSWORD_FILE", Files.writeString(dir.resolve("password"), "from a file\n").toString());
        env.put("USER_LIMITS_FILE", Files.writeString(dir.resolve("limits"), "maria 4\nbot exempt\n").toString());
        env.put("SESSION_LINGER", "1.5");
        env.put("LIMITER_ACTION", "DISABLE");

        LimiterSettings settings = LimiterSettings.fromEnvironment(env);
        assertEquals("from a file", settings.panel().password());
        assertEquals(new Limit(4), settings.limitFile().current().get("maria"));
        assertTrue(settings.limitFile().current().get("bot").exempt());
        assertEquals(1500, settings.sessionLingerMillis());
        assertEquals(LimiterSettings.Action.DISABLE, settings.action());
    }

    @Test
    void theMarzbanSettingsAreRequiredToDisableAndWhenAPanelIsNamed() {
        Map<String, String> env = required();
        env.remove("MARZBAN_URL");
        env.put("LIMITER_ACTION", "disable");
        assertEquals("MARZBAN_URL is not set; it is required",
                assertThrows(SettingsException.class, () -> LimiterSettings.fromEnvironment(env)).getMessage());
        Map<String, String> noPassword = required();
        noPassword.remove("MARZBAN_PASSWORD");
        assertEquals("set exactly one of MARZBAN_PASSWORD and MARZBAN_PASSWORD_FILE",
                assertThrows(SettingsException.class, () -> LimiterSettings.fromEnvironment(noPassword)).getMessage());
    }

    @Test
    void reportingNeedsNoPanel() {
        Map<String, String> env = required();
        env.remove("MARZBAN_URL");
        env.remove("MARZBAN_USERNAME");
        env.remove("MARZBAN_PASSWORD");
        LimiterSettings settings = LimiterSettings.fromEnvironment(env);
        assertEquals(LimiterSettings.Action.REPORT, settings.action());
        assertEquals(null, settings.panel());
        assertTrue(settings.toString().contains("no panel"), settings.toString());
    }

    @Test
    void aPanelTypeOrAPasarGuardApiKeyMayBeSet() throws Exception {
        Map<String, String> env = required();
        env.put("PANEL_TYPE", "marzneshin");
        assertEquals(PanelType.MARZNESHIN, LimiterSettings.fromEnvironment(env).panel().type());
        env.put("PANEL_TYPE", "remnawave");
        assertTrue(assertThrows(SettingsException.class, () -> LimiterSettings.fromEnvironment(env)).getMessage()
                .startsWith("PANEL_TYPE"));

        Map<String, String> key = required();
        key.remove("MARZBAN_USERNAME");
        key.remove("MARZBAN_PASSWORD");
        key.put("PANEL_API_KEY_FILE", Files.writeString(dir.resolve("key"), "pg_key_abc\n").toString());
        LimiterSettings settings = LimiterSettings.fromEnvironment(key);
        assertEquals("pg_key_abc", settings.panel().apiKey());
        assertFalse(settings.toString().contains("pg_key_abc"), settings.toString());
        key.put("PANEL_TYPE", "marzban");
        assertTrue(assertThrows(SettingsException.class, () -> LimiterSettings.fromEnvironment(key)).getMessage()
                .startsWith("PANEL_API_KEY_FILE is for PasarGuard"));
        key.put("PANEL_TYPE", "pasarguard");
        key.put("MARZBAN_PASSWORD", "hunter2");
        assertTrue(assertThrows(SettingsException.class, () -> LimiterSettings.fromEnvironment(key)).getMessage()
                .startsWith("set PANEL_API_KEY_FILE or a password"));
    }

    @Test
    void tlsFilesNeedARedissUrlAsForTheAgent() throws Exception {
        Map<String, String> env = required();
        env.put("CENTRAL_REDIS_CA_FILE", Files.writeString(dir.resolve("ca.pem"), "x").toString());
        assertTrue(assertThrows(SettingsException.class, () -> LimiterSettings.fromEnvironment(env)).getMessage()
                .contains("only apply to a rediss:// CENTRAL_REDIS_URL"));
    }

    @Test
    void readsTheSameSentinelAndClusterUrlsAsTheAgent() {
        Map<String, String> env = required();
        env.put("CENTRAL_REDIS_URL", "redis-cluster://:secret@c1:7000,c2:7001");
        LimiterSettings settings = LimiterSettings.fromEnvironment(env);
        assertEquals(RedisEndpoint.Topology.CLUSTER, settings.centralRedis().topology());
        assertFalse(settings.toString().contains("secret"), settings.toString());
        env.put("CENTRAL_REDIS_URL", "redis-sentinel://s1,s2,s3#mymaster");
        assertEquals("mymaster", LimiterSettings.fromEnvironment(env).centralRedis().masterName());
    }
}
