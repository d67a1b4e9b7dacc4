package io.marzban.iplimiter.agent.position;

import java.util.Optional;

/**
 * Where the agent remembers how far it has shipped each file. Positions move forward together with the events
 * they cover (see {@code BatchWriter}); the store gives them back and records where reading starts.
 */
public interface PositionStore {

    /** The last committed position for the file followed at {@code path}, if any. */
    Optional<FilePosition> load(String path);

    /**
     * Records where reading starts when there was no usable stored position, so that a crash before the first
     * batch resumes from the same place instead of deciding anew (and skipping or repeating lines).
     */
    void save(FilePosition start);
}
