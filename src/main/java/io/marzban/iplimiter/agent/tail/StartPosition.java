package io.marzban.iplimiter.agent.tail;

/** Where to start in a file that has no stored position; Camel converts {@code end} or {@code beginning}. */
public enum StartPosition {
    /** The whole file. */
    BEGINNING,
    /** The line being written at the end, and the lines before it written since the agent started. */
    END
}
