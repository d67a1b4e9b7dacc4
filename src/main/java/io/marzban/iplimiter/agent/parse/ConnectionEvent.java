package io.marzban.iplimiter.agent.parse;

import java.time.Instant;

/**
 * One accepted connection of a user; shipped to Redis as JSON ({@link io.marzban.iplimiter.agent.ship.EventJson}), its
 * fields in this order (docs/CONFIGURATION.md, "The event").
 *
 * @param timestamp   when Xray logged the connection (microsecond precision)
 * @param nodeId      the node that wrote the line
 * @param nodeName    the node's human-readable name
 * @param email       the user's email as Xray logged it, e.g. {@code 17.maria}
 * @param clientIp    the client's IPv4 or IPv6 address in canonical form (no transport prefix, brackets, port, zone)
 * @param rawLine     the log line without trailing whitespace
 * @param processedAt when the line was parsed (microsecond precision)
 * @param username    the panel's username: the email without its leading {@code <digits>.}; null when the email is
 *                    only a number
 * @param inbound     the inbound tag of the line's detour; null when it names none
 * @param outbound    the outbound tag of the line's detour; null when it has none
 * @param forwarded   the source port is 0: the address came from an X-Forwarded-For header
 * @param network     {@code tcp} or {@code udp} from the destination; null when the line does not say
 * @param userId      the panel's user id: the email's leading number; null when it has none
 */
public record ConnectionEvent(Instant timestamp, String nodeId, String nodeName, String email, String clientIp,
                              String rawLine, Instant processedAt, String username, String inbound, String outbound,
                              boolean forwarded, String network, Long userId) implements ParsedLine {
}
