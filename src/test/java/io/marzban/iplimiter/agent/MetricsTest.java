package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /observe/metrics after a known run shows exactly what happened. */
class MetricsTest {

    @TempDir
    Path dir;

    @Test
    void afterAKnownRunTheMetricsShowExactlyThoseCounts() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            String port = Ports.freeText();
            Map<String, String> env = AgentEnv.of(redis.url(), log, "MANAGEMENT_PORT", port, "FLUSH_INTERVAL", "0.1",
                    "MAX_LINE_BYTES", "1024");
            List<String> lines = new ArrayList<>();
            lines.add("2025/03/01 18:05:00 from 203.0.113.9:4000 rejected  proxy/vless/encoding: invalid user id");
            lines.add("2025/03/01 18:05:00.1 DOHL//dns.example got answer: www.example.com -> [192.0.2.10] 3.1ms");
            lines.add("");
            lines.add("2025/03/01 18:05:01 from 127.0.0.1:51000 accepted tcp:127.0.0.1:0 [api -> api]");
            lines.add("2025/03/01 18:05:02 from DNS accepted udp:1.1.1.1:53 [dns-out]");
            lines.add("garbage accepted nonsense");
            lines.add("x".repeat(5000)); // over MAX_LINE_BYTES: never read as a line
            lines.addAll(AccessLines.numbered(0, 10)); // the events, last so that the whole file is shipped
            try (RunningAgent agent = RunningAgent.start(env)) {
                Files.writeString(log, String.join("\n", lines) + "\n", StandardOpenOption.APPEND);
                redis.awaitEvents(10, Duration.ofSeconds(30));
                String url = "http://127.0.0.1:" + port + "/observe/metrics";
                Wait.until("every line counted", Duration.ofSeconds(30),
                        () -> value(scrape(url), "marzban_lines_read_total") == 16);
                String metrics = scrape(url);

                assertEquals(16, value(metrics, "marzban_lines_read_total"));
                assertEquals(3, value(metrics, "marzban_lines_skipped_total{reason=\"not_accepted\"}"));
                assertEquals(2, value(metrics, "marzban_lines_skipped_total{reason=\"no_email\"}"));
                assertEquals(1, value(metrics, "marzban_lines_skipped_total{reason=\"malformed\"}"));
                assertEquals(1, value(metrics, "marzban_lines_skipped_total{reason=\"too_long\"}"));
                assertEquals(10, value(metrics, "marzban_events_shipped_total"));
                assertTrue(value(metrics, "marzban_batches_written_total") >= 1);
                assertEquals(0, value(metrics, "marzban_write_errors_total"));
                assertEquals(0, value(metrics, "marzban_write_retries_total"));
                assertEquals(1, value(metrics, "marzban_redis_up"));
                assertEquals(0, value(metrics, "marzban_read_lag_bytes"));
                assertEquals(10, value(metrics, "marzban_queue_length"));
                assertTrue(value(metrics, "marzban_last_shipped_age_seconds") >= 0);
                assertTrue(metrics.contains("jvm_memory_used_bytes"), "the JVM's own meters are there too");
            }
        }
    }

    private static String scrape(String url) {
        HttpResponse<String> metrics = Http.get(url);
        return metrics == null ? "" : metrics.body();
    }

    /** The value of the sample with this name, and this label if given, e.g. {@code x{reason="y"}}; NaN if absent. */
    private static double value(String metrics, String sample) {
        int brace = sample.indexOf('{');
        String name = brace < 0 ? sample : sample.substring(0, brace);
        String label = brace < 0 ? "" : sample.substring(brace + 1, sample.length() - 1);
        for (String line : metrics.split("\n")) {
            if ((line.startsWith(name + " ") || line.startsWith(name + "{")) && line.contains(label)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }
}
