package io.marzban.iplimiter.agent.ship;

import io.marzban.iplimiter.agent.position.FilePosition;
import java.util.ArrayList;
import java.util.List;

/**
 * Events in file order and the position just after the last line they came from: writing the events and
 * committing that position is one step, so every event is shipped exactly once.
 */
public final class EventBatch {

    private final List<byte[]> events = new ArrayList<>();
    private FilePosition position;
    private long readGeneration;

    /**
     * Adds the events of a group of lines that ends at {@code endOfLastLine}. A group of a newer read generation
     * (the file is read again from an earlier position) replaces what the batch held: those lines come again.
     */
    public void add(List<byte[]> groupEvents, FilePosition endOfLastLine, long generation) {
        if (generation > readGeneration) {
            events.clear();
            readGeneration = generation;
        }
        events.addAll(groupEvents);
        position = endOfLastLine;
    }

    public byte[][] events() {
        return events.toArray(new byte[0][]);
    }

    public int size() {
        return events.size();
    }

    public FilePosition position() {
        return position;
    }

    /** Which reading of the file the events come from; see {@code BatchWriter#write}. */
    public long readGeneration() {
        return readGeneration;
    }
}
