package io.marzban.iplimiter.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A panel's REST API on loopback, as the facts describe it (shared marzban-api.md, panels-api.md), each trap
 * included: what the limiter's tests run against, one implementation per panel API. Tests play the administrator.
 */
public interface PanelStandIn extends AutoCloseable {

    String ADMIN = "admin";
    String PASSWORD = "s3cret+pass word";

    String url();

    /** The limiter's settings to reach it: MARZBAN_URL and the admin's credentials (PANEL_TYPE left to auto). */
    default Map<String, String> env() {
        return Map.of("MARZBAN_URL", url(), "MARZBAN_USERNAME", ADMIN, "MARZBAN_PASSWORD", PASSWORD);
    }

    /** A user; {@code expire} epoch seconds or null, {@code dataLimit} bytes or null. Returns its id. */
    long addUser(String username, String status, Long expire, Long dataLimit, long usedTraffic);

    default long addUser(String username) {
        return addUser(username, "active", null, null, 0);
    }

    /** A user whose time starts at its first connection, {@code duration} seconds of it. */
    void addOnHoldUser(String username, long duration);

    /** The email Xray logs for the user on this panel's nodes: {@code <id>.<username>}, or {@code <id>}. */
    String email(String username);

    /** The key the limiter files the user under: its id. */
    default String key(String username) {
        return Long.toString(id(username));
    }

    long id(String username);

    /** The user's status in Marzban's words. */
    String status(String username);

    /** Expiry in epoch seconds, or null. */
    Long expire(String username);

    /** The user as the panel stores it. */
    JsonNode user(String username);

    /** The administrator moves the user's expiry. */
    void extendExpiry(String username, long expire);

    /** The panel records traffic of the user's connections still open. */
    void useTraffic(String username, long usedTraffic);

    /** Every change of a user's status the limiter made, in order, as {@code username status}. */
    List<String> changes();

    default List<String> changesOf(String username) {
        return changes().stream().filter(change -> change.startsWith(username + " ")).toList();
    }

    /** The panel goes away: every request fails to connect until {@link #restart()}. */
    void stop();

    void restart() throws IOException;

    @Override
    void close();
}
