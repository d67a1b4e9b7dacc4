package io.marzban.iplimiter.parse;

import java.time.Instant;

/**
 * One accepted connection of a user; shipped to Redis as JSON ({@link io.marzban.iplimiter.ship.EventJson}).
 *
 * @param timestamp   when Xray logged the connection (microsecond precision)
 * @param nodeId      the node that wrote the line
 * @param nodeName    the node's human-readable name
 * @param email       the user's email as Xray logged it, e.g. {@code 17.maria}
 * @param clientIp    the client address without transport prefix, brackets and port
 * @param rawLine     the log line without trailing whitespace
 * @param processedAt when the line was parsed (microsecond precision)
 */
public record ConnectionEvent(Instant timestamp, String nodeId, String nodeName, String email, String clientIp,
                              String rawLine, Instant processedAt) implements ParsedLine {
}
