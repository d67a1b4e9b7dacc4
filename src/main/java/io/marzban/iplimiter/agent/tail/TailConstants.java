package io.marzban.iplimiter.agent.tail;

/** The headers a {@code tail:} consumer sets on each exchange, as Camel's own components name theirs. */
public final class TailConstants {

    /** The {@link io.marzban.iplimiter.agent.position.FilePosition} just after the last line in the body. */
    public static final String POSITION_HEADER = "TailPosition";
    /**
     * True on the last group of a read that began more than 128 KiB behind: the tailer was behind (a burst, a
     * backlog) and has caught up with the file, so waiting for more lines to fill a batch would only add delay.
     */
    public static final String CAUGHT_UP_HEADER = "TailCaughtUp";

    /**
     * Which reading of the file the lines come from: 0 at start, one more each time the file is read again from
     * the stored position ({@link TailStatus#readAgain()}). Lines of an older reading are not to be shipped.
     */
    public static final String READ_GENERATION_HEADER = "TailReadGeneration";

    /**
     * {@link System#nanoTime()} of the last look that found the file read to its very end: every line in the body
     * was written after it. Absent when that is not known (the first read of a file, a read after a failure), so a
     * group read from a backlog never has a recent one.
     */
    public static final String WRITTEN_AFTER_HEADER = "TailWrittenAfterNanos";

    private TailConstants() {
    }
}
