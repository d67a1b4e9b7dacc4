package io.marzban.iplimiter.agent.ship;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.redis.KeySpace;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.ToLongFunction;
import redis.clients.jedis.params.SetParams;

/**
 * The node's sign of life in the central Redis, so that the centre can tell "no users" from "node down":
 * {@code {<QUEUE_KEY>}:heartbeat:<NODE_ID>} holding {@code {node_id, node_name, version, file, offset,
 * lag_bytes, time}} for {@value KeySpace#HEARTBEAT_TTL_SECONDS} s ({@code time} is the node's own clock, which the
 * limiter compares with its own). Set with a batch (in its transaction) every 10 s while shipping,
 * and every 30 s while idle.
 */
public final class Heartbeat {

    private static final JsonFactory JSON = new JsonFactory();
    private static final String VERSION = versionOfThisJar();

    private final KeySpace keys;
    private final String nodeId;
    private final String nodeName;
    private final String accessLogPath;
    private final Clock clock;
    /** Bytes of the log after a position; measured by the tailer, which exists only once the route does. */
    private volatile ToLongFunction<FilePosition> lagAfter = position -> 0;

    public Heartbeat(KeySpace keys, String nodeId, String nodeName, String accessLogPath, Clock clock) {
        this.keys = keys;
        this.nodeId = nodeId;
        this.nodeName = nodeName;
        this.accessLogPath = accessLogPath;
        this.clock = clock;
    }

    public void measureLagWith(ToLongFunction<FilePosition> bytesAfter) {
        this.lagAfter = bytesAfter;
    }

    String key() {
        return keys.heartbeat(nodeId);
    }

    static SetParams expiry() {
        return SetParams.setParams().ex(KeySpace.HEARTBEAT_TTL_SECONDS);
    }

    /** The heartbeat's value once {@code committed} is shipped (null before the first batch of this run). */
    String value(FilePosition committed) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        StringWriter text = new StringWriter();
        try (JsonGenerator json = JSON.createGenerator(text)) {
            json.writeStartObject();
            json.writeStringField("node_id", nodeId);
            json.writeStringField("node_name", nodeName);
            json.writeStringField("version", VERSION);
            json.writeStringField("file", committed == null ? accessLogPath : committed.path());
            if (committed == null) {
                json.writeNullField("offset");
            } else {
                json.writeNumberField("offset", committed.offset());
            }
            json.writeNumberField("lag_bytes", lagAfter.applyAsLong(committed));
            json.writeNumberField("time", BigDecimal.valueOf(now.getEpochSecond())
                    .add(BigDecimal.valueOf(now.getNano(), 9)).setScale(6));
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a string cannot fail", e);
        }
        return text.toString();
    }

    private static String versionOfThisJar() {
        String version = Heartbeat.class.getPackage().getImplementationVersion();
        return version == null ? "development" : version; // no manifest when run from classes (tests, an IDE)
    }
}
