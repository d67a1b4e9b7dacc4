package io.marzban.iplimiter.redis;

/**
 * The prefix of every key the agent and the limiter write besides the queue: the queue's hash tag,
 * {@code {node_logs_queue}:}, so that in a Redis Cluster every key lives in the queue's slot (a batch's MULTI/EXEC
 * and the limiter's script touch the queue and these keys together).
 */
public final class KeySpace {

    /**
     * A node's heartbeat expires this long after it was set: the limiter takes its age from what is left, as Redis
     * measures it, so that no clock enters the age.
     */
    public static final int HEARTBEAT_TTL_SECONDS = 90;

    private final String prefix;

    public KeySpace(String queueKey) {
        this.prefix = "{" + hashedPart(queueKey) + "}:";
    }

    /** The part of a key name Redis Cluster hashes: the first non-empty {...}, else the whole name. */
    private static String hashedPart(String key) {
        int open = key.indexOf('{');
        int close = open < 0 ? -1 : key.indexOf('}', open + 1);
        return close > open + 1 ? key.substring(open + 1, close) : key;
    }

    /** {@code {<QUEUE_KEY>}:}, the prefix of every key. */
    public String prefix() {
        return prefix;
    }

    /** {@code {<QUEUE_KEY>}:heartbeat:<NODE_ID>}: a node's sign of life, which the agent sets and the limiter reads. */
    public String heartbeat(String nodeId) {
        return prefix + "heartbeat:" + nodeId;
    }

    /** A SCAN pattern that matches every node's heartbeat key (and nothing else). */
    public String heartbeatPattern() {
        return prefix.replaceAll("([*?\\[\\]\\\\])", "\\\\$1") + "heartbeat:*";
    }
}
