package io.marzban.iplimiter.position;

import java.util.Optional;

/**
 * Where the agent remembers how far it has shipped each file. Positions are written together with the
 * events they cover (see {@code BatchWriter}), so the store only needs to give them back.
 */
public interface PositionStore {

    /** The last committed position for the file followed at {@code path}, if any. */
    Optional<FilePosition> load(String path);
}
