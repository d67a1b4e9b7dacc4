package io.marzban.iplimiter.parse;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.time.Instant;

/**
 * One accepted connection of a user, as shipped to Redis in JSON.
 *
 * @param timestamp   when Xray logged the connection (microsecond precision)
 * @param nodeId      the node that wrote the line
 * @param nodeName    the node's human-readable name
 * @param email       the user's email as Xray logged it, e.g. {@code 17.maria}
 * @param clientIp    the client address without transport prefix, brackets and port
 * @param rawLine     the log line without trailing whitespace
 * @param processedAt when the line was parsed (microsecond precision)
 */
@JsonPropertyOrder({"timestamp", "node_id", "node_name", "email", "client_ip", "raw_line", "processed_at"})
public record ConnectionEvent(
        @JsonProperty("timestamp") @JsonSerialize(using = EpochSecondsSerializer.class) Instant timestamp,
        @JsonProperty("node_id") String nodeId,
        @JsonProperty("node_name") String nodeName,
        @JsonProperty("email") String email,
        @JsonProperty("client_ip") String clientIp,
        @JsonProperty("raw_line") String rawLine,
        @JsonProperty("processed_at") @JsonSerialize(using = EpochSecondsSerializer.class) Instant processedAt)
        implements ParsedLine {
}
