package io.marzban.iplimiter.tail;

import io.marzban.iplimiter.position.FileIdentity;
import io.marzban.iplimiter.position.FilePosition;
import io.marzban.iplimiter.position.PositionStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one log file by identity and hands its complete lines to a {@link LineSink} in groups of up to
 * {@code linesPerGroup}, each with the position just after its last line. Lines are cut only at {@code \n}: a
 * half-written last line waits for its end. The sink is called on this thread, so a sink that blocks (the
 * shipper is behind) stops reading; the file is the buffer.
 *
 * <p>Waiting. With nothing to read, the tailer sleeps until the directory reports a change (or {@code pollMillis}
 * passes); a file that keeps growing is read at most every {@code readIntervalMillis}, so a writer that writes
 * line by line is read in groups rather than line by line.
 *
 * <p>Rotation. When the path leads to another file (rename + create, delete + recreate), the file being read is
 * drained until it has been quiet for {@code rotationQuietMillis} (Xray keeps writing to it for a while), then
 * the file written after it is read from its start: the one at the path, or a rotated sibling if more rotations
 * happened meanwhile. When the file is truncated in place (copytruncate), what was not read yet is read from the
 * copy first. A stored position whose file was rotated while the agent was stopped is found among the siblings.
 */
public final class FileTailer implements Runnable {

    /** Receives complete lines in file order; throwing makes the tailer offer the same lines again later. */
    @FunctionalInterface
    public interface LineSink {
        /**
         * @param caughtUp true for the last group of a read that began more than a buffer (128 KiB) behind the end
         *                 of the file: the tailer was behind (a burst, a backlog) and has now read all there is
         */
        void accept(List<String> lines, FilePosition endOfLastLine, boolean caughtUp) throws Exception;
    }

    private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);
    private static final int MIN_BUFFER = 128 * 1024;

    private final Path path;
    private final String pathName;
    private final boolean startAtBeginning;
    private final Predicate<String> writtenSinceStart;
    private final int maxLineBytes;
    private final int linesPerGroup;
    private final long pollMillis;
    private final long readIntervalNanos;
    private final long rotationQuietMillis;
    private final PositionStore positions;
    private final RotatedFiles rotated;
    private final LineSink sink;
    private final ByteBuffer buffer;
    private final DirectoryWatch changes;

    private volatile boolean running = true;
    /** True while a file is open and positioned; false while waiting for one. */
    private volatile boolean following;
    /** Why no file is being followed (missing, unreadable), or null. */
    private volatile String problem;
    private final AtomicLong linesTooLong = new AtomicLong();
    private final AtomicLong linesRead = new AtomicLong();
    /** Size of the file being read when last looked at, for the read lag. */
    private volatile long knownSize;
    /** Where reading started (stored with the store), the baseline of the read lag until the first commit. */
    private volatile FilePosition started;
    private long lastLongLineWarningNanos;

    // the file being read
    private FileChannel channel;
    private long device;
    private long inode;
    private volatile FileIdentity identity;
    /** A copy left by copytruncate: nobody writes to it, so there is no quiet period to wait for. */
    private boolean readingCopy;
    /** Everything before this offset has been read into {@link #group} and handed to the sink (or skipped). */
    private long offset;
    /** Lines read but not yet handed to the sink, and the offset where the first of them starts. */
    private List<String> group = new ArrayList<>();
    private long groupStart;
    private long groupEnd;
    /** The current read began more than a buffer behind the file's end. */
    private boolean readingBacklog;
    /** Inside a line longer than maxLineBytes: drop bytes up to its {@code \n}. */
    private boolean skippingLongLine;
    /** File size at the last read; -1 forces a read (after opening, or when a line must be offered again). */
    private long sizeAtLastRead;
    /** When the file was opened or last found grown (and so read). */
    private long lastGrowthNanos;
    /** Modification time of the file being read when last seen at the path: orders it among rotated files. */
    private long lastSeenModifiedNanos;

    /**
     * @param startPosition     where to start in a file without a stored position: {@code beginning}, or {@code end}
     * @param writtenSinceStart with {@code end}: tells the lines written since the agent started, which are read too
     */
    public FileTailer(Path path, String startPosition, Predicate<String> writtenSinceStart, int maxLineBytes,
                      int linesPerGroup, long pollMillis, long readIntervalMillis, long rotationQuietMillis,
                      String rotatedPattern, PositionStore positions, LineSink sink) {
        this.path = path.toAbsolutePath();
        this.pathName = this.path.toString();
        this.startAtBeginning = "beginning".equals(startPosition);
        this.writtenSinceStart = writtenSinceStart;
        this.maxLineBytes = maxLineBytes;
        this.linesPerGroup = linesPerGroup;
        this.pollMillis = pollMillis;
        this.readIntervalNanos = TimeUnit.MILLISECONDS.toNanos(readIntervalMillis);
        this.rotationQuietMillis = rotationQuietMillis;
        this.positions = positions;
        this.rotated = new RotatedFiles(this.path, rotatedPattern);
        this.sink = sink;
        this.buffer = ByteBuffer.allocate(Math.max(MIN_BUFFER, maxLineBytes + 1));
        this.changes = new DirectoryWatch(this.path.getParent());
    }

    public void stop() {
        running = false;
    }

    public boolean isFollowing() {
        return following;
    }

    /** Why the log cannot be read right now, or null while it is followed. */
    public String problem() {
        return problem;
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
        FilePosition shipped = inCurrentFile(committed) ? committed : inCurrentFile(started) ? started : null;
        return Math.max(0, knownSize - (shipped == null ? 0 : shipped.offset()));
    }

    private boolean inCurrentFile(FilePosition position) {
        FileIdentity current = identity;
        return position != null && current != null && position.file().device() == current.device()
                && position.file().inode() == current.inode();
    }

    /** Lines skipped because they were longer than the limit. */
    public long linesTooLong() {
        return linesTooLong.get();
    }

    @Override
    public void run() {
        try {
            openFirst();
            while (running) {
                if (readNewLines()) {
                    continue;
                }
                if (replacedAtPath() && (readingCopy || quietFor(rotationQuietMillis))) {
                    moveToNextFile();
                    continue;
                }
                awaitChange();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            following = false;
            closeChannel();
            changes.close();
        }
    }

    // ---- opening and resuming ----

    private void openFirst() throws InterruptedException {
        Optional<FilePosition> stored;
        while (true) {
            boolean appearedAfterStart = openPathWhenPresent();
            stored = storedPosition();
            try {
                offset = resumeOffset(stored, appearedAfterStart);
                break;
            } catch (IOException e) {
                // nothing was handed over yet, so starting over is safe
                LOG.warn("Cannot read {} to resume it ({}); trying again", pathName, e.toString());
                closeChannel();
                pause(Math.max(pollMillis, 1_000));
            }
        }
        FilePosition start = new FilePosition(pathName, identity, offset);
        started = start;
        if (!stored.equals(Optional.of(start))) {
            // so that a crash before the first batch starts here again, rather than deciding anew
            savePosition(start);
        }
        following = true;
    }

    private long resumeOffset(Optional<FilePosition> stored, boolean appearedAfterStart) throws IOException {
        long size = channel.size();
        if (stored.isEmpty()) {
            // a file that appeared after the agent started holds nothing older than the agent
            long start = startAtBeginning || appearedAfterStart ? 0 : startOfLinesAtEnd(size, writtenSinceStart);
            LOG.info("No stored position for {}; starting at offset {} of {} bytes", pathName, start, size);
            return start;
        }
        FilePosition position = stored.get();
        if (!position.file().matches(channel, device, inode)) {
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
            open(found.get(), position.file().inode() != found.get().inode());
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

    private Optional<FilePosition> storedPosition() throws InterruptedException {
        return untilStoreAnswers("read the stored position of", () -> positions.load(pathName));
    }

    private void savePosition(FilePosition start) throws InterruptedException {
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
                if (!running) {
                    throw new InterruptedException("stopped while waiting for the position store");
                }
                pause(wait);
                wait = Math.min(wait * 2, 5_000);
            }
        }
    }

    /**
     * Start of the line being written at the end (so reading never begins in the middle of a line), or earlier: at
     * the first of the complete lines before it that {@code keep} accepts, within the last buffer's worth of the
     * file. START_POSITION=end keeps the lines written since the agent started: skipping them would lose them.
     */
    private long startOfLinesAtEnd(long size, Predicate<String> keep) throws IOException {
        long windowStart = readLastBytes(size);
        int lineEnd = lastNewline(buffer.position());
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
            String line = new String(buffer.array(), lineStart, lineEnd - lineStart, StandardCharsets.UTF_8);
            if (!keep.test(line)) {
                break;
            }
            start = windowStart + lineStart;
            lineEnd = previousNewline;
        }
        return start;
    }

    /** Reads the last bytes of the file, up to the buffer's size, into the buffer; the offset of the first. */
    private long readLastBytes(long size) throws IOException {
        long from = Math.max(0, size - buffer.capacity());
        buffer.clear();
        while (buffer.position() < size - from && channel.read(buffer, from + buffer.position()) >= 0) {
            // a positional read may return fewer bytes than asked
        }
        return from;
    }

    /** Index of the last {@code \n} among the buffer's first {@code length} bytes, or -1. */
    private int lastNewline(int length) {
        for (int i = length - 1; i >= 0; i--) {
            if (buffer.get(i) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Opens the file at the path, waiting until there is one; true if it did not exist at first. */
    private boolean openPathWhenPresent() throws InterruptedException {
        String lastProblem = null;
        boolean wasMissing = false;
        while (running) {
            try {
                Map<String, Object> before = Files.readAttributes(path, "unix:dev,ino");
                FileChannel opened = FileChannel.open(path, StandardOpenOption.READ);
                Map<String, Object> after = Files.readAttributes(path, "unix:dev,ino");
                if (!before.equals(after)) {
                    opened.close(); // replaced while we opened it: try again
                    continue;
                }
                opened(opened, (Long) after.get("dev"), (Long) after.get("ino"), false);
                problem = null;
                if (lastProblem != null) {
                    LOG.info("{} is readable now", pathName);
                }
                return wasMissing;
            } catch (NoSuchFileException e) {
                wasMissing = true;
                lastProblem = logOnce(lastProblem, "Waiting for " + pathName + " to appear (is Xray's access log enabled?)");
            } catch (AccessDeniedException e) {
                lastProblem = logOnce(lastProblem, "Cannot read " + pathName + ": permission denied; the agent's user "
                        + "needs read access (see the FAQ)");
            } catch (IOException e) {
                lastProblem = logOnce(lastProblem, "Cannot open " + pathName + ": " + e);
            }
            if (running) {
                changes.await(pollMillis);
            }
        }
        throw new InterruptedException("stopped while waiting for " + pathName);
    }

    private void open(RotatedFiles.Found file, boolean copy) throws IOException {
        closeChannel();
        opened(FileChannel.open(file.path(), StandardOpenOption.READ), file.device(), file.inode(), copy);
    }

    private void opened(FileChannel opened, long openedDevice, long openedInode, boolean copy) throws IOException {
        channel = opened;
        device = openedDevice;
        inode = openedInode;
        identity = FileIdentity.of(channel, device, inode);
        readingCopy = copy;
        skippingLongLine = false;
        sizeAtLastRead = -1;
        lastGrowthNanos = System.nanoTime();
    }

    private String logOnce(String lastProblem, String current) {
        if (!current.equals(lastProblem)) {
            LOG.warn(current);
        }
        problem = current;
        return current;
    }

    // ---- reading ----

    /** Reads and hands over every complete line now in the file; false when no line was handed over. */
    private boolean readNewLines() throws InterruptedException {
        try {
            long size = channel.size();
            knownSize = size;
            if (size < offset) {
                afterTruncation("shrank from " + offset + " to " + size + " bytes (truncated, e.g. by copytruncate)");
                return true;
            }
            if (size == sizeAtLastRead || size == offset) {
                return false; // nothing new, or only the same half-written line as last time
            }
            if (!identity.matches(channel, device, inode)) {
                afterTruncation("was truncated and written again");
                return true;
            }
            if (identity.canGrow() && size > identity.fingerprintBytes()) {
                identity = FileIdentity.of(channel, device, inode);
            }
            lastGrowthNanos = System.nanoTime();
            sizeAtLastRead = size;
            long before = offset;
            readUpTo(size);
            return offset != before;
        } catch (IOException e) {
            LOG.warn("Reading {} failed ({}); trying again", pathName, e.toString());
            sizeAtLastRead = -1;
            pause(pollMillis);
            return false;
        }
    }

    private void readUpTo(long size) throws IOException, InterruptedException {
        // a steady stream, read every readInterval, never gets this far behind; a burst or a backlog does
        readingBacklog = size - offset > buffer.capacity();
        try {
            readLinesUpTo(size);
        } finally {
            handOverGroup(true); // lines read before any stop are from the file we checked: hand them over
        }
    }

    private void readLinesUpTo(long size) throws IOException, InterruptedException {
        while (running && offset < size) {
            buffer.clear();
            int read = channel.read(buffer, offset);
            if (read <= 0 || !identity.matches(channel, device, inode)) {
                // truncated (and maybe written again) while the sink held us up: what was read may be the new
                // file's bytes, so drop it and have readNewLines look again (and recover the rest from the copy)
                sizeAtLastRead = -1;
                return;
            }
            long base = offset;
            byte[] bytes = buffer.array();
            int lineStart = 0;
            for (int i = 0; i < read; i++) {
                byte b = bytes[i];
                if (b == 0 && i == lineStart && !skippingLongLine) {
                    // NUL padding left by some writers after a truncation belongs to no line
                    lineStart = i + 1;
                    offset = base + lineStart;
                } else if (b == '\n') {
                    if (skippingLongLine) {
                        skippingLongLine = false;
                    } else if (i - lineStart > maxLineBytes) {
                        countLongLine(base + lineStart);
                    } else {
                        addToGroup(new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8), base + i + 1);
                        if (group.size() == linesPerGroup && !handOverGroup(base + i + 1 == size)) {
                            return;
                        }
                    }
                    lineStart = i + 1;
                    offset = base + lineStart;
                }
            }
            int pending = read - lineStart;
            if (skippingLongLine || pending > maxLineBytes) {
                if (!skippingLongLine) {
                    skippingLongLine = true;
                    countLongLine(offset);
                }
                offset = base + read;
            } else if (read < buffer.capacity()) {
                return; // the rest is a half-written line: wait for its \n
            }
        }
    }

    private void addToGroup(String line, long endOffset) {
        if (group.isEmpty()) {
            groupStart = offset;
        }
        group.add(line);
        groupEnd = endOffset;
    }

    private void countLongLine(long at) {
        long count = linesTooLong.incrementAndGet();
        long now = System.nanoTime();
        if (count == 1 || now - lastLongLineWarningNanos >= TimeUnit.MINUTES.toNanos(1)) {
            // at most one line a minute: a file of garbage must not flood the log
            LOG.warn("Skipping a line of more than {} bytes at offset {} of {} (MAX_LINE_BYTES; {} such lines so far)",
                    maxLineBytes, at, pathName, count);
            lastLongLineWarningNanos = now;
        }
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
            sink.accept(lines, new FilePosition(pathName, identity, groupEnd), lastOfRead && readingBacklog);
            linesRead.addAndGet(lines.size());
            return true;
        } catch (Exception e) {
            offset = groupStart;
            skippingLongLine = false;
            sizeAtLastRead = -1;
            if (running) {
                LOG.warn("Lines at offsets {}-{} of {} could not be processed ({}); offering them again", groupStart,
                        groupEnd, pathName, e.toString());
                pause(Math.max(pollMillis, 1_000));
            }
            return false;
        }
    }

    /**
     * Sleeps until the directory reports a change or pollMillis passes; then, if the last read was less than
     * readIntervalMillis ago, until that much time has passed, so that lines written one by one are read together.
     */
    private void awaitChange() throws InterruptedException {
        changes.await(pollMillis);
        long sinceRead = System.nanoTime() - lastGrowthNanos;
        if (sinceRead < readIntervalNanos) {
            pause(TimeUnit.NANOSECONDS.toMillis(readIntervalNanos - sinceRead) + 1);
        }
    }

    // ---- rotation ----

    /**
     * The file was truncated under us: what we had not read yet is only in the copy that copytruncate made, so
     * read the rest from there first (then the files written after it), else read the file again from its start.
     */
    private void afterTruncation(String what) throws IOException {
        long knownUnread = Math.max(0, sizeAtLastRead - offset);
        Optional<RotatedFiles.Found> copy = rotated.find(identity, offset + 1);
        if (copy.isPresent()) {
            LOG.info("{} {}; reading the rest of it from {} (offset {}), then the files written after it", pathName,
                    what, copy.get().path(), offset);
            open(copy.get(), true);
            return;
        }
        if (knownUnread > 0) {
            LOG.warn("{} {} before at least {} bytes of it were read, and no uncompressed copy of it is among {}: "
                    + "those bytes are lost; reading the file again from its start", pathName, what, knownUnread, rotated);
        } else {
            LOG.info("{} {}; reading it again from its start", pathName, what);
        }
        offset = 0;
        identity = FileIdentity.of(channel, device, inode);
        skippingLongLine = false;
        sizeAtLastRead = -1;
    }

    /** True when the path no longer leads to the file we have open. */
    private boolean replacedAtPath() {
        try {
            Map<String, Object> current = Files.readAttributes(path, "unix:dev,ino,lastModifiedTime");
            if ((Long) current.get("dev") != device || (Long) current.get("ino") != inode) {
                return true;
            }
            lastSeenModifiedNanos = ((FileTime) current.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
            return false;
        } catch (IOException e) {
            return true; // deleted or unreadable: what is left of the open file still gets drained
        }
    }

    private boolean quietFor(long millis) {
        return System.nanoTime() - lastGrowthNanos >= TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** The file being read is finished: go on with the one written after it, which may itself be rotated already. */
    private void moveToNextFile() throws InterruptedException {
        Optional<RotatedFiles.Found> next = rotated.after(device, inode, lastSeenModifiedNanos);
        LOG.info("{} was rotated; finished the old file at offset {}; reading {} next", pathName, offset,
                next.map(file -> file.path().toString()).orElse("the new file at the path"));
        following = false;
        try {
            if (next.isPresent()) {
                open(next.get(), false);
            } else {
                closeChannel();
                openPathWhenPresent();
            }
        } catch (IOException e) {
            LOG.warn("Cannot open {} ({}); reading the new file at the path instead", next.get().path(), e.toString());
            closeChannel();
            openPathWhenPresent();
        }
        offset = 0;
        following = true;
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // read-only channel: nothing to flush
            }
            channel = null;
        }
    }

    private void pause(long millis) throws InterruptedException {
        if (running) {
            Thread.sleep(millis);
        }
    }
}
