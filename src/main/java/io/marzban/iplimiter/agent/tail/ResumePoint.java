package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.PositionStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where reading of the file begins: at the stored position (in the file at the path, or in the rotated sibling it
 * was renamed or copied to while the agent was stopped), else at {@code START_POSITION}. The store is asked until
 * it answers, and the start is recorded, so that a crash before the first batch starts there again.
 */
final class ResumePoint {

    /** The tailer's logger: its lines keep the name operators filter on (docs show them as FileTailer). */
    private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);

    private final OpenFile file;
    private final String pathName;
    private final RotatedFiles rotated;
    private final StartPosition startPosition;
    private final Predicate<String> writtenSinceStart;
    private final PositionStore positions;
    private final long pollMillis;
    private final BooleanSupplier running;
    /** The look-back at the file's end covers what this holds. */
    private final ByteBuffer window;

    ResumePoint(OpenFile file, RotatedFiles rotated, TailOptions options, PositionStore positions, ByteBuffer window,
                BooleanSupplier running) {
        this.file = file;
        this.pathName = file.pathName();
        this.rotated = rotated;
        this.startPosition = options.startPosition();
        this.writtenSinceStart = options.writtenSinceStart();
        this.positions = positions;
        this.pollMillis = options.pollMillis();
        this.window = window;
        this.running = running;
    }

    Optional<FilePosition> stored() throws InterruptedException {
        return untilStoreAnswers("read the stored position of", () -> positions.load(pathName));
    }

    void record(FilePosition start) throws InterruptedException {
        untilStoreAnswers("record the start position of", () -> {
            positions.save(start);
            return start;
        });
    }

    private <T> T untilStoreAnswers(String action, Supplier<T> call) throws InterruptedException {
        boolean warned = false;
        long wait = pollMillis;
        while (true) {
            try {
                return call.get();
            } catch (RuntimeException e) {
                if (!warned) {
                    LOG.warn("Cannot {} {} yet ({}); retrying until it answers", action, pathName, e.getMessage());
                    warned = true;
                }
                if (!running.getAsBoolean()) {
                    throw new InterruptedException("stopped while waiting for the position store");
                }
                Thread.sleep(wait);
                wait = Math.min(wait * 2, 5_000);
            }
        }
    }

    /**
     * The offset to read the open file from, which may be another file by then (the stored position's, rotated).
     *
     * @param appearedAfterStart the file did not exist when the agent started, so it holds nothing older
     */
    long offset(Optional<FilePosition> stored, boolean appearedAfterStart) throws IOException {
        long size = file.size();
        if (stored.isEmpty()) {
            long start = startPosition == StartPosition.BEGINNING || appearedAfterStart ? 0
                    : startOfLinesAtEnd(size, writtenSinceStart);
            LOG.info("No stored position for {}; starting at offset {} of {} bytes", pathName, start, size);
            return start;
        }
        FilePosition position = stored.get();
        if (!file.matches(position.file())) {
            return resumeInRotatedFile(position) ? position.offset() : 0;
        }
        if (position.offset() > size) {
            LOG.warn("The stored position of {} (offset {}) is past the end of the file ({} bytes); continuing "
                    + "from its end", pathName, position.offset(), size);
            return startOfLinesAtEnd(size, line -> false);
        }
        LOG.info("Resuming {} at offset {} of {} bytes", pathName, position.offset(), size);
        return position.offset();
    }

    /** The stored position's file was rotated while the agent was stopped: read on from it if it can be found. */
    private boolean resumeInRotatedFile(FilePosition position) throws IOException {
        String what = pathName + " was rotated while the agent was stopped";
        Optional<RotatedFiles.Found> found = rotated.find(position.file(), position.offset());
        if (found.isPresent()) {
            LOG.info("{}; reading the rest of it from {} (offset {}), then the files written after it", what,
                    found.get().path(), position.offset());
            file.open(found.get(), position.file().inode() != found.get().inode());
            return true;
        }
        Optional<Long> lost = rotated.bytesLostInCompressedCopy(position.file(), position.offset());
        if (lost.isPresent()) {
            (lost.get() > 0 ? LOG.atWarn() : LOG.atInfo()).log("{}; its rotated copy is compressed, so the {} bytes "
                    + "after offset {} in it are lost; reading the current file from its start",
                    what, lost.get(), position.offset());
        } else {
            LOG.warn("{}; the file read before is not among {} any more (deleted, or compressed), so whatever "
                    + "followed offset {} in it is lost; reading the current file from its start",
                    what, rotated, position.offset());
        }
        return false;
    }

    /**
     * Start of the line being written at the end (so reading never begins in the middle of a line), or earlier: at
     * the first of the complete lines before it that {@code keep} accepts, within the last window's worth of the
     * file. START_POSITION=end keeps the lines written since the agent started: skipping them would lose them.
     */
    private long startOfLinesAtEnd(long size, Predicate<String> keep) throws IOException {
        long windowStart = file.readEnd(window, size);
        int lineEnd = lastNewline(window.position());
        if (lineEnd < 0) {
            return windowStart == 0 ? 0 : size;
        }
        long start = windowStart + lineEnd + 1;
        while (lineEnd >= 0) {
            int previousNewline = lastNewline(lineEnd);
            if (previousNewline < 0 && windowStart > 0) {
                break; // the line may begin before the window
            }
            int lineStart = previousNewline + 1;
            String line = new String(window.array(), lineStart, lineEnd - lineStart, StandardCharsets.UTF_8);
            if (!keep.test(line)) {
                break;
            }
            start = windowStart + lineStart;
            lineEnd = previousNewline;
        }
        return start;
    }

    /** Index of the last {@code \n} among the window's first {@code length} bytes, or -1. */
    private int lastNewline(int length) {
        for (int i = length - 1; i >= 0; i--) {
            if (window.get(i) == '\n') {
                return i;
            }
        }
        return -1;
    }
}
