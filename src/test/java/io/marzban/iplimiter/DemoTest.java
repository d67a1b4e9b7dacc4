package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.support.AgentProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/marzban-ip-limiter-node demo: events arrive, the limiter reports, and Ctrl-C leaves nothing behind. */
class DemoTest {

    @TempDir
    Path dir;

    @Test
    void showsEventsAndVerdictsThenCtrlCStopsEverythingItStarted() throws Exception {
        AgentProcess demo = AgentProcess.start(Map.of(), dir.resolve("demo.out"), List.of("demo"));
        try {
            demo.awaitOutput("\"email\":");
            demo.awaitOutput("is over the limit");
            List<ProcessHandle> started = demo.descendants();
            assertFalse(started.isEmpty(), "the demo's own redis-server runs");
            Matcher logFile = Pattern.compile("the sample access log (\\S+)/access\\.log").matcher(demo.outputText());
            assertTrue(logFile.find(), demo.outputText());
            Path workDir = Path.of(logFile.group(1));

            demo.interrupt(); // Ctrl-C
            demo.waitForExit();
            assertFalse(started.stream().anyMatch(ProcessHandle::isAlive), "left running: " + started);
            assertFalse(Files.exists(workDir), workDir + " is left behind");
        } finally {
            demo.kill();
        }
    }
}
