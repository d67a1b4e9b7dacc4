package io.marzban.iplimiter.agent.tail;

import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * The options of one followed file, with their defaults; the endpoint's parameters of the same names.
 *
 * @param path                where the file is, made absolute
 * @param startPosition       where to start in a file without a stored position
 * @param writtenSinceStart   with {@link StartPosition#END}: tells the lines written since the agent started, which
 *                            are read too, so that what was logged while the agent was starting is not lost
 * @param maxLineBytes        longer lines are skipped (and counted) without being held in memory
 * @param linesPerGroup       at most this many lines per group (fewer when the reader has caught up with the file)
 * @param pollMillis          longest wait before looking at the file again when no change was reported for it
 * @param readIntervalMillis  shortest time between two reads of a growing file: writes closer together are read
 *                            together
 * @param rotationQuietMillis how long a rotated-away file must stay unchanged before the file after it is read
 * @param rotatedPattern      where rotated copies of the file are looked for, as a glob in its directory
 */
public record TailOptions(Path path, StartPosition startPosition, Predicate<String> writtenSinceStart,
                          int maxLineBytes, int linesPerGroup, long pollMillis, long readIntervalMillis,
                          long rotationQuietMillis, String rotatedPattern) {

    static final StartPosition START_POSITION = StartPosition.END;
    static final Predicate<String> WRITTEN_SINCE_START = line -> false;
    static final int MAX_LINE_BYTES = 65_536;
    static final int LINES_PER_GROUP = 50;
    static final long POLL_MILLIS = 1_000;
    static final long READ_INTERVAL_MILLIS = 20;
    static final long ROTATION_QUIET_MILLIS = 5_000;

    public TailOptions {
        path = path.toAbsolutePath();
        if (linesPerGroup < 1) {
            throw new IllegalArgumentException("tail linesPerExchange must be at least 1, not " + linesPerGroup);
        }
        if (rotatedPattern == null) {
            rotatedPattern = defaultRotatedPattern(path);
        }
    }

    /** Rotated copies are looked for as {@code <file name>.*} unless a pattern is given. */
    static String defaultRotatedPattern(Path file) {
        return file.getFileName() + ".*";
    }
}
