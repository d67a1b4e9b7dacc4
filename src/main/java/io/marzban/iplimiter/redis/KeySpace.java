package io.marzban.iplimiter.redis;

/**
 * The prefix of every key the agent and the limiter write besides the queue: the queue's hash tag,
 * {@code {node_logs_queue}:}, so that in a Redis Cluster every key lives in the queue's slot (a batch's MULTI/EXEC
 * and the limiter's script touch the queue and these keys together). Keys written before that carry
 * {@value #LEGACY_PREFIX}; they are moved once, and a node whose ACL user knows only those names keeps them
 * ({@link #keepLegacyNames()}). A cluster never held them: its installs were refused with CROSSSLOT.
 */
public final class KeySpace {

    public static final String LEGACY_PREFIX = "marzban_ip_limiter:";

    private final String taggedPrefix;
    private final boolean cluster;
    private volatile boolean legacy;

    public KeySpace(String queueKey, boolean cluster) {
        this.taggedPrefix = "{" + hashedPart(queueKey) + "}:";
        this.cluster = cluster;
    }

    /** The part of a key name Redis Cluster hashes: the first non-empty {...}, else the whole name. */
    private static String hashedPart(String key) {
        int open = key.indexOf('{');
        int close = open < 0 ? -1 : key.indexOf('}', open + 1);
        return close > open + 1 ? key.substring(open + 1, close) : key;
    }

    /** The prefix keys are written under now. */
    public String prefix() {
        return legacy ? LEGACY_PREFIX : taggedPrefix;
    }

    /** The prefix of this version's names, {@code {<QUEUE_KEY>}:}. */
    public String taggedPrefix() {
        return taggedPrefix;
    }

    /** True where keys of older versions may exist (a single server or sentinels; never a cluster). */
    public boolean mayHoldLegacyKeys() {
        return !cluster && !legacy;
    }

    /** From now on the old names: this user's ACL names only those (a warning says what to add to it). */
    public void keepLegacyNames() {
        legacy = true;
    }

    /** True for a reply that says the ACL user may not use a key (not: may not run the command). */
    public static boolean refused(RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        return message.startsWith("NOPERM") && message.contains("key");
    }
}
