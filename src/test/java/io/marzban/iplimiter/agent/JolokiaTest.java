package io.marzban.iplimiter.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marzban.iplimiter.support.AgentEnv;
import io.marzban.iplimiter.support.LogFile;
import io.marzban.iplimiter.support.Http;
import io.marzban.iplimiter.support.AccessLines;
import io.marzban.iplimiter.support.Ports;
import io.marzban.iplimiter.support.RedisServer;
import io.marzban.iplimiter.support.Wait;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hawtio's way in: Jolokia at /observe/jolokia, under the agent's access policy. */
class JolokiaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROUTE = "org.apache.camel:context=marzban-ip-limiter-node,type=routes,"
            + "name=\"ship-access-log\"";

    @TempDir
    Path dir;

    private String base;

    @Test
    void listsTheRoutesStopsAndStartsOneAndRefusesWhatIsDangerous() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
            Path log = Files.createFile(dir.resolve("access.log"));
            String port = Ports.freeText();
            base = "http://127.0.0.1:" + port + "/observe";
            Map<String, String> env = AgentEnv.of(redis.url(), log, "MANAGEMENT_PORT", port, "FLUSH_INTERVAL", "0.1");
            try (RunningAgent agent = RunningAgent.start(env)) {
                JsonNode routes = jolokia("{\"type\":\"search\",\"mbean\":\"org.apache.camel:type=routes,*\"}");
                assertEquals(200, routes.get("status").asInt(), routes.toString());
                assertTrue(routes.get("value").toString().contains("ship-access-log"), routes.toString());

                LogFile.append(log, AccessLines.numbered(0, 10));
                redis.awaitEvents(10, Duration.ofSeconds(30));

                JsonNode stop = jolokia(exec(ROUTE, "stop()"));
                assertEquals(200, stop.get("status").asInt(), stop.toString());
                Wait.until("health shows the stopped route", Duration.ofSeconds(30), () -> health() == 503);

                LogFile.append(log, AccessLines.numbered(10, 20)); // written while the route is stopped
                JsonNode start = jolokia(exec(ROUTE, "start()"));
                assertEquals(200, start.get("status").asInt(), start.toString());
                Wait.until("health is back", Duration.ofSeconds(30), () -> health() == 200);
                redis.awaitAtLeast(20, Duration.ofSeconds(30));
                assertEquals(AccessLines.numbered(0, 20), redis.rawLines("node_logs_queue"));

                JsonNode dump = jolokia(exec("com.sun.management:type=HotSpotDiagnostic",
                        "dumpHeap(java.lang.String,boolean)", "\"" + dir.resolve("heap.hprof") + "\"", "true"));
                assertEquals(403, dump.get("status").asInt(), dump.toString());
                assertTrue(Files.notExists(dir.resolve("heap.hprof")));

                JsonNode write = jolokia("{\"type\":\"write\",\"mbean\":\"java.lang:type=Memory\","
                        + "\"attribute\":\"Verbose\",\"value\":true}");
                assertEquals(403, write.get("status").asInt(), write.toString());

                JsonNode read = jolokia("{\"type\":\"read\",\"mbean\":\"java.lang:type=Memory\","
                        + "\"attribute\":\"HeapMemoryUsage\"}");
                assertEquals(200, read.get("status").asInt(), read.toString());
            }
        }
    }

    private static String exec(String mbean, String operation, String... arguments) {
        return "{\"type\":\"exec\",\"mbean\":\"" + mbean.replace("\"", "\\\"") + "\",\"operation\":\""
                + operation + "\",\"arguments\":[" + String.join(",", arguments) + "]}";
    }

    private JsonNode jolokia(String request) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(base + "/jolokia"))
                        .POST(HttpRequest.BodyPublishers.ofString(request)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body());
    }

    private int health() {
        HttpResponse<String> health = Http.get(base + "/health");
        return health == null ? -1 : health.statusCode();
    }
}
