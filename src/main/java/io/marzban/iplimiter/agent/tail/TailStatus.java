package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FilePosition;
import java.util.function.Supplier;
import org.apache.camel.CamelContext;

/** What the rest of the agent may know of, and do to, the reading of the log: the one door into {@code tail:}. */
public interface TailStatus {

    /** Why the log cannot be read right now, or null. */
    String problem();

    /** True while a file is open and positioned (false while waiting for the file or the position store). */
    boolean isFollowing();

    /** Lines sent through the route. */
    long linesRead();

    /** Lines skipped as longer than maxLineBytes. */
    long linesTooLong();

    /** Bytes of the log not yet shipped, measured against the last committed position. */
    long bytesAfter(FilePosition committed);

    /** Stops reading: the lines being processed finish, nothing after them is read. */
    void stopReading() throws InterruptedException;

    /**
     * Reads the file again from the position the store holds now, without waiting; lines read so far are of an
     * older generation. Returns the new read generation (see {@link TailConstants#READ_GENERATION_HEADER}).
     */
    long readAgain();

    /**
     * The tail consumers of the context's routes as one (there is one in the bundled route); none while there is
     * no context yet.
     */
    static TailStatus of(Supplier<CamelContext> context) {
        return new TailsOfContext(context);
    }
}
