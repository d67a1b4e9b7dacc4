package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FileIdentity;
import io.marzban.iplimiter.agent.position.FilePosition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file being read, and how far: its channel, device and inode, identity and offset, and the splitter of its
 * bytes into lines (which starts afresh with each file). Usually the file at the followed path; after a rotation
 * or a truncation, for a while, the rotated file or the copy that holds the rest.
 */
final class OpenFile implements AutoCloseable {

    /** What became of the file since it was last read. */
    enum Change {
        /** Nothing new, or only more of the half-written line read last time. */
        NONE,
        /** New bytes after the offset: read them. */
        GREW,
        /** Shorter than the offset: truncated in place (copytruncate). */
        SHRANK,
        /** Other first bytes than before: truncated and written again between two looks. */
        WRITTEN_AGAIN
    }

    /** The tailer's logger: its lines keep the name operators filter on (docs show them as FileTailer). */
    private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);

    private final Path path;
    private final String pathName;
    private final LineSplitter lines;
    private FileChannel channel;
    private long device;
    private long inode;
    private volatile FileIdentity identity;
    /** A copy left by copytruncate: nobody writes to it, so there is no quiet period to wait for. */
    private boolean copy;
    /** Everything before this offset has been handed to the sink (or skipped), or is in the group being read. */
    private long offset;
    /** Size when last looked at, for the read lag. */
    private volatile long size;
    /** File size at the last read; -1 forces a read (after opening, or when a line must be offered again). */
    private long sizeAtLastRead;
    /** When the file was opened or last found grown (and so read). */
    private long lastGrowthNanos;
    /** When a look last found every byte of the file read (System.nanoTime); 0 while not known since opening. */
    private long readToEndNanos;
    /** Modification time of this file when last seen at the path: orders it among rotated files. */
    private long lastSeenModifiedNanos;
    /** Why the file at the path cannot be opened (missing, unreadable), or null. */
    private volatile String problem;
    /** The last {@link #openAtPath()} found no file there. */
    private boolean missing;

    OpenFile(Path path, int maxLineBytes) {
        this.path = path;
        this.pathName = path.toString();
        this.lines = new LineSplitter(pathName, maxLineBytes);
    }

    /** Opens the file at the path; false (and {@link #problem()} says why, logged once) while it cannot be. */
    boolean openAtPath() {
        String lastProblem = problem;
        missing = false;
        try {
            FileChannel opened;
            Map<String, Object> after;
            while (true) {
                Map<String, Object> before = Files.readAttributes(path, "unix:dev,ino");
                opened = FileChannel.open(path, StandardOpenOption.READ);
                after = Files.readAttributes(path, "unix:dev,ino");
                if (before.equals(after)) {
                    break;
                }
                opened.close(); // replaced while we opened it: try again
            }
            opened(opened, (Long) after.get("dev"), (Long) after.get("ino"), false);
            problem = null;
            if (lastProblem != null) {
                LOG.info("{} is readable now", pathName);
            }
            return true;
        } catch (NoSuchFileException e) {
            missing = true;
            report(lastProblem, "Waiting for " + pathName + " to appear (is Xray's access log enabled?)");
        } catch (AccessDeniedException e) {
            report(lastProblem, "Cannot read " + pathName + ": permission denied; the agent's user needs read "
                    + "access (see docs/TROUBLESHOOTING.md)");
        } catch (IOException e) {
            report(lastProblem, "Cannot open " + pathName + ": " + e);
        }
        return false;
    }

    private void report(String lastProblem, String current) {
        if (!current.equals(lastProblem)) {
            LOG.warn(current);
        }
        problem = current;
    }

    /** Opens a rotated file or a copy found for the file read before, in its place. */
    void open(RotatedFiles.Found file, boolean isCopy) throws IOException {
        close();
        opened(FileChannel.open(file.path(), StandardOpenOption.READ), file.device(), file.inode(), isCopy);
    }

    private void opened(FileChannel opened, long openedDevice, long openedInode, boolean isCopy) throws IOException {
        channel = opened;
        device = openedDevice;
        inode = openedInode;
        identity = FileIdentity.of(channel, device, inode);
        copy = isCopy;
        lines.restartAtLine();
        sizeAtLastRead = -1;
        lastGrowthNanos = System.nanoTime();
        readToEndNanos = 0;
    }

    /** Looks at the file's size and first bytes; on {@link Change#GREW} the new bytes are to be read now. */
    Change change() throws IOException {
        long current = channel.size();
        size = current;
        if (current < offset) {
            return Change.SHRANK;
        }
        if (current == offset) {
            readToEndNanos = System.nanoTime();
            return Change.NONE;
        }
        if (current == sizeAtLastRead) {
            return Change.NONE;
        }
        if (!identity.matches(channel, device, inode)) {
            return Change.WRITTEN_AGAIN;
        }
        if (identity.canGrow() && current > identity.fingerprintBytes()) {
            identity = FileIdentity.of(channel, device, inode);
        }
        lastGrowthNanos = System.nanoTime();
        sizeAtLastRead = current;
        return Change.GREW;
    }

    /** Reads from {@code at} into the buffer; -1 (nothing read) once the file is not the one opened any more. */
    int read(ByteBuffer buffer, long at) throws IOException {
        int read = channel.read(buffer, at);
        return read > 0 && identity.matches(channel, device, inode) ? read : -1;
    }

    /** Reads the last bytes before {@code end}, as many as the buffer holds; the offset of the first. */
    long readEnd(ByteBuffer buffer, long end) throws IOException {
        long from = Math.max(0, end - buffer.capacity());
        buffer.clear();
        while (buffer.position() < end - from && channel.read(buffer, from + buffer.position()) >= 0) {
            // a positional read may return fewer bytes than asked
        }
        return from;
    }

    /** Reads the file from its start again, as a new file (truncated, and maybe written again). */
    void readAgainFromStart() throws IOException {
        offset = 0;
        readToEndNanos = 0;
        identity = FileIdentity.of(channel, device, inode);
        lines.restartAtLine();
        sizeAtLastRead = -1;
    }

    /** Makes the next look read, even if the file did not grow (a read failed or was cut short). */
    void readAgain() {
        sizeAtLastRead = -1;
        readToEndNanos = 0;
    }

    /** Goes back to the start of lines the sink could not take, to offer them again. */
    void offerAgainFrom(long lineStart) {
        offset = lineStart;
        readToEndNanos = 0;
        lines.restartAtLine();
        sizeAtLastRead = -1;
    }

    /** True when the path no longer leads to this file (renamed or deleted away, or unreadable). */
    boolean replacedAtPath() {
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

    /** The file written after this one, among the rotated files and the file at the path. */
    Optional<RotatedFiles.Found> next(RotatedFiles rotated) {
        return rotated.after(device, inode, lastSeenModifiedNanos);
    }

    boolean quietFor(long millis) {
        return nanosSinceGrowth() >= TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /**
     * When a look last found the whole file read (System.nanoTime): the lines after the offset were written since.
     * 0 when not known: since the file was opened, read again or offered again.
     */
    long readToEndNanos() {
        return readToEndNanos;
    }

    /** Time since the file was opened or last found grown (and so read). */
    long nanosSinceGrowth() {
        return System.nanoTime() - lastGrowthNanos;
    }

    /**
     * Bytes of this file beyond {@code committed}; or beyond {@code started} when the commit was in another file;
     * all of it when neither is in this file.
     */
    long bytesAfter(FilePosition committed, FilePosition started) {
        FilePosition shipped = isThisFile(committed) ? committed : isThisFile(started) ? started : null;
        return Math.max(0, size - (shipped == null ? 0 : shipped.offset()));
    }

    private boolean isThisFile(FilePosition position) {
        FileIdentity current = identity;
        return position != null && current != null && position.file().device() == current.device()
                && position.file().inode() == current.inode();
    }

    boolean matches(FileIdentity stored) throws IOException {
        return stored.matches(channel, device, inode);
    }

    long size() throws IOException {
        return channel.size();
    }

    /** The size at the last {@link #change()}. */
    long knownSize() {
        return size;
    }

    FileIdentity identity() {
        return identity;
    }


    long knownUnread() {
        return Math.max(0, sizeAtLastRead - offset);
    }

    boolean isCopy() {
        return copy;
    }

    long offset() {
        return offset;
    }

    void offset(long at) {
        offset = at;
    }

    String problem() {
        return problem;
    }

    boolean isMissing() {
        return missing;
    }

    LineSplitter lines() {
        return lines;
    }

    String pathName() {
        return pathName;
    }

    @Override
    public void close() {
        FileChannel open = channel;
        channel = null;
        try {
            if (open != null) {
                open.close();
            }
        } catch (IOException ignored) {
            // read-only channel: nothing to flush
        }
    }
}
