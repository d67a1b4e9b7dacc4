package io.marzban.iplimiter.limiter;

/**
 * Every Redis key the limiter owns, under one prefix so that the layout can move (e.g. under a cluster hash tag)
 * in this one place. The queue the agents fill is named by QUEUE_KEY, not here.
 *
 * <ul>
 * <li>{@code seen:<user>}: sorted set, raw address (prefixed {@code f|} when forwarded) → last-seen epoch seconds</li>
 * <li>{@code nodes:<user>}: hash, the same member → name of the node that saw it last</li>
 * <li>{@code users}: sorted set, user → last-seen epoch seconds: whom the checker looks at</li>
 * <li>{@code over}: sorted set, user → epoch milliseconds since which the user is over the limit</li>
 * <li>{@code acted}: set of users whose current violation has been reported or enforced</li>
 * <li>{@code disabled:<user>}: hash, what the limiter saved before it disabled the user</li>
 * <li>{@code restores}: sorted set, user → epoch milliseconds at which to restore the user</li>
 * <li>{@code lock:<user>}: string, the instance id holding the lease to act on the user</li>
 * </ul>
 */
public final class LimiterKeys {

    public static final String PREFIX = "marzban_ip_limiter:limiter:";

    private LimiterKeys() {
    }

    /** The prefix of the per-user observation keys; the consuming script appends the user name. */
    public static String seenPrefix() {
        return PREFIX + "seen:";
    }

    public static String nodesPrefix() {
        return PREFIX + "nodes:";
    }

    public static String seen(String user) {
        return seenPrefix() + user;
    }

    public static String nodes(String user) {
        return nodesPrefix() + user;
    }

    public static String users() {
        return PREFIX + "users";
    }

    public static String over() {
        return PREFIX + "over";
    }

    public static String acted() {
        return PREFIX + "acted";
    }

    public static String disabled(String user) {
        return PREFIX + "disabled:" + user;
    }

    public static String restores() {
        return PREFIX + "restores";
    }

    public static String lock(String user) {
        return PREFIX + "lock:" + user;
    }
}
