package io.marzban.iplimiter.agent.position;

/** A point in a followed file: everything before {@code offset} has been read (and, once committed, shipped). */
public record FilePosition(String path, FileIdentity file, long offset) {
}
