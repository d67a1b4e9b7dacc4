package io.marzban.iplimiter.limiter.panel;

/**
 * How the limiter names a user to a panel: its key in Redis (the panel's user id where the node's email carried
 * one, else the username), the id, and the username where known. Panels that find users by name need the
 * username; PasarGuard 5 needs only the id.
 */
public record UserRef(String key, Long id, String username) {

    /** The key's user: an id when the key is a number (no username is only digits: such an email is an id). */
    public static UserRef of(String key, String username) {
        boolean number = !key.isEmpty() && key.length() <= 18 && key.chars().allMatch(c -> c >= '0' && c <= '9');
        return number ? new UserRef(key, Long.valueOf(key), username) : new UserRef(key, null, key);
    }

    /** The username where known, else the key: what per-user limits name. */
    public String name() {
        return username == null ? key : username;
    }

    /** For people: {@code maria (id 17)}, {@code id 42}, {@code maria}. */
    @Override
    public String toString() {
        if (username == null) {
            return "id " + id;
        }
        return id == null ? username : username + " (id " + id + ")";
    }
}
