package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.PositionStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one log file by identity and hands its complete lines to a {@link LineSink} in groups of up to
 * {@code linesPerGroup}, each with the position just after its last line. Lines are cut only at {@code \n}: a
 * half-written last line waits for its end. The sink is called on this thread, so a sink that blocks (the
 * shipper is behind) stops reading; the file is the buffer.
 *
 * <p>Waiting. With nothing to read, the tailer sleeps until the directory reports a change (or {@code pollMillis}
 * passes). While lines trickle in (growth within {@link #TRICKLE_NANOS}) it reads every {@code readIntervalMillis}
 * unwatched: each of Xray's one-line write()s would wake the JDK's watch thread, then this one.
 *
 * <p>The parts: {@link ResumePoint} decides where reading begins, {@link OpenFile} is the file being read and
 * its offset, {@link LineSplitter} cuts its bytes into lines, and {@link Rotation} moves on to the file to read
 * next when this one is truncated or replaced.
 */
public final class FileTailer implements Runnable {

    /** Receives complete lines in file order; throwing makes the tailer offer the same lines again later. */
    @FunctionalInterface
    public interface LineSink {
        /**
         * @param caughtUp true for the last group of a read that began more than a buffer (128 KiB) behind the end
         *                 of the file: the tailer was behind (a burst, a backlog) and has now read all there is
         * @param writtenAfterNanos System.nanoTime() of a look that found the file read to its end, so the lines were
         *                 written after it; 0 when not known (the first read of a file, a read after a failure)
         */
        void accept(List<String> lines, FilePosition endOfLastLine, boolean caughtUp, long writtenAfterNanos)
                throws Exception;
    }

    private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);
    private static final int MIN_BUFFER = 128 * 1024;
    private static final long TRICKLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String pathName;
    private final int linesPerGroup;
    private final long pollMillis;
    private final long readIntervalNanos;
    private final LineSink sink;
    private final ByteBuffer buffer;
    private final DirectoryWatch changes;
    private final OpenFile file;
    private final ResumePoint resume;
    private final Rotation rotation;
    private final LineSplitter.Lines takeLine = this::takeLine;

    private volatile boolean running = true;
    /** True while a file is open and positioned; false while waiting for one. */
    private volatile boolean following;
    private final AtomicLong linesRead = new AtomicLong();
    /** Where reading started (stored with the store), the baseline of the read lag until the first commit. */
    private volatile FilePosition started;

    /** Lines read but not yet handed to the sink, the offset where the first starts and the last ends. */
    private List<String> group = new ArrayList<>();
    private long groupStart;
    private long groupEnd;
    /** The size the current read goes up to, and whether it began more than a buffer behind it. */
    private long readTo;
    private boolean readingBacklog;
    /** The lines of the current read were written after this (System.nanoTime); 0 when not known. */
    private long readWrittenAfterNanos;

    public FileTailer(TailOptions options, PositionStore positions, LineSink sink) {
        this.pathName = options.path().toString();
        this.linesPerGroup = options.linesPerGroup();
        this.pollMillis = options.pollMillis();
        this.readIntervalNanos = TimeUnit.MILLISECONDS.toNanos(options.readIntervalMillis());
        this.sink = sink;
        this.buffer = ByteBuffer.allocate(Math.max(MIN_BUFFER, options.maxLineBytes() + 1));
        this.changes = new DirectoryWatch(options.path().getParent());
        this.file = new OpenFile(options.path(), options.maxLineBytes());
        RotatedFiles rotated = new RotatedFiles(options.path(), options.rotatedPattern());
        this.resume = new ResumePoint(file, rotated, options, positions, buffer, () -> running);
        this.rotation = new Rotation(file, rotated, options.rotationQuietMillis());
    }

    public void stop() {
        running = false;
    }

    public boolean isFollowing() {
        return following;
    }

    /** Why the log cannot be read right now, or null while it is followed. */
    public String problem() {
        return file.problem();
    }

    /** Lines handed to the sink (over-long lines are not). */
    public long linesRead() {
        return linesRead.get();
    }

    /**
     * Bytes of the file being read that lie beyond {@code committed}, the last position written with its events;
     * all of the file if the commit was in another file (or none was made yet).
     */
    public long bytesAfter(FilePosition committed) {
        return file.bytesAfter(committed, started);
    }

    /** Lines skipped because they were longer than the limit. */
    public long linesTooLong() {
        return file.lines().linesTooLong();
    }

    @Override
    public void run() {
        try {
            openFirst();
            while (running) {
                if (readNewLines()) {
                    continue;
                }
                if (rotation.finished()) {
                    moveToNextFile();
                    continue;
                }
                awaitChange();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            following = false;
            file.close();
            changes.close();
        }
    }

    private void openFirst() throws InterruptedException {
        Optional<FilePosition> stored;
        while (true) {
            boolean appearedAfterStart = openPathWhenPresent();
            stored = resume.stored();
            try {
                file.offset(resume.offset(stored, appearedAfterStart));
                break;
            } catch (IOException e) {
                // nothing was handed over yet, so starting over is safe
                LOG.warn("Cannot read {} to resume it ({}); trying again", pathName, e.toString());
                file.close();
                pause(Math.max(pollMillis, 1_000));
            }
        }
        FilePosition start = new FilePosition(pathName, file.identity(), file.offset());
        started = start;
        if (!stored.equals(Optional.of(start))) {
            // so that a crash before the first batch starts here again, rather than deciding anew
            resume.record(start);
        }
        following = true;
    }

    /** Opens the file at the path, waiting until there is one; true if it did not exist at first. */
    private boolean openPathWhenPresent() throws InterruptedException {
        boolean wasMissing = false;
        while (running) {
            if (file.openAtPath()) {
                return wasMissing;
            }
            wasMissing |= file.isMissing();
            if (running) {
                changes.await(pollMillis);
            }
        }
        throw new InterruptedException("stopped while waiting for " + pathName);
    }

    /** Reads and hands over every complete line now in the file; false when no line was handed over. */
    private boolean readNewLines() throws InterruptedException {
        try {
            OpenFile.Change change = file.change();
            if (change == OpenFile.Change.NONE) {
                return false;
            }
            if (change != OpenFile.Change.GREW) {
                rotation.afterTruncation(change);
                return true;
            }
            long before = file.offset();
            readUpTo(file.knownSize());
            return file.offset() != before;
        } catch (IOException e) {
            LOG.warn("Reading {} failed ({}); trying again", pathName, e.toString());
            file.readAgain();
            pause(pollMillis);
            return false;
        }
    }

    private void readUpTo(long size) throws IOException, InterruptedException {
        // a steady stream, read every readInterval, never gets this far behind; a burst or a backlog does
        readingBacklog = size - file.offset() > buffer.capacity();
        readTo = size;
        readWrittenAfterNanos = file.readToEndNanos();
        try {
            readLinesUpTo(size);
        } finally {
            handOverGroup(true); // lines read before any stop are from the file we checked: hand them over
        }
    }

    private void readLinesUpTo(long size) throws IOException, InterruptedException {
        LineSplitter lines = file.lines();
        while (running && file.offset() < size) {
            buffer.clear();
            long base = file.offset();
            int read = file.read(buffer, base);
            if (read < 0) {
                // truncated (and maybe written again) while the sink held us up: what was read may be the new
                // file's bytes, so drop it and have readNewLines look again (and recover the rest from the copy)
                file.readAgain();
                return;
            }
            long next = lines.split(buffer.array(), read, base, takeLine);
            if (next < 0) {
                return; // the sink failed: reading goes on from the group it did not take
            }
            file.offset(next);
            if (!lines.inLongLine() && read < buffer.capacity()) {
                return; // the rest is a half-written line: wait for its \n
            }
        }
    }

    private boolean takeLine(String line, long start, long end) throws InterruptedException {
        if (group.isEmpty()) {
            groupStart = start;
        }
        group.add(line);
        groupEnd = end;
        return group.size() < linesPerGroup || handOverGroup(end == readTo);
    }

    /**
     * Hands the lines read so far to the sink; false if the sink failed, and then reading goes back to the first
     * of them, to offer them again later.
     */
    private boolean handOverGroup(boolean lastOfRead) throws InterruptedException {
        if (group.isEmpty()) {
            return true;
        }
        List<String> lines = group;
        group = new ArrayList<>(linesPerGroup);
        try {
            sink.accept(lines, new FilePosition(pathName, file.identity(), groupEnd), lastOfRead && readingBacklog,
                    readWrittenAfterNanos);
            linesRead.addAndGet(lines.size());
            return true;
        } catch (Exception e) {
            file.offerAgainFrom(groupStart);
            if (running) {
                LOG.warn("Lines at offsets {}-{} of {} could not be processed ({}); offering them again", groupStart,
                        groupEnd, pathName, e.toString());
                pause(Math.max(pollMillis, 1_000));
            }
            return false;
        }
    }

    /**
     * While lines trickle in, sleeps readIntervalMillis without watching; otherwise until the directory reports a
     * change or pollMillis passes, then on until readIntervalMillis after the last read.
     */
    private void awaitChange() throws InterruptedException {
        if (file.nanosSinceGrowth() < TRICKLE_NANOS) {
            changes.close();
            pause(TimeUnit.NANOSECONDS.toMillis(readIntervalNanos));
            return;
        }
        changes.await(pollMillis);
        long sinceRead = file.nanosSinceGrowth();
        if (sinceRead < readIntervalNanos) {
            pause(TimeUnit.NANOSECONDS.toMillis(readIntervalNanos - sinceRead) + 1);
        }
    }

    /** The file being read is finished: go on with the one written after it, which may itself be rotated already. */
    private void moveToNextFile() throws InterruptedException {
        following = false;
        if (rotation.moveOn() == Rotation.Outcome.FILE_AT_PATH) {
            openPathWhenPresent();
        }
        following = true;
    }

    private void pause(long millis) throws InterruptedException {
        if (running) {
            Thread.sleep(millis);
        }
    }
}
