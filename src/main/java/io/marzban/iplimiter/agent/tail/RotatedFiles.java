package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FileIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * The rotated siblings of a followed log ({@code access.log.1}, {@code access.log-20250301}, ...), where a file
 * read earlier may be found again: renamed (same inode and content) or copied by copytruncate (same content).
 */
final class RotatedFiles {

    private static final List<String> COMPRESSED = List.of(".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z");

    private final Path path;
    private final String glob;

    RotatedFiles(Path path, String glob) {
        this.path = path;
        this.glob = glob;
    }

    /** A file that was read earlier, found again. */
    record Found(Path path, long device, long inode) { }

    /**
     * The uncompressed sibling holding the file with this identity and at least {@code minSize} bytes; one with the
     * same inode (renamed) is preferred over a copy.
     */
    Optional<Found> find(FileIdentity identity, long minSize) {
        // a file recorded while still empty has no fingerprint: only its inode can tell it (a renamed file)
        boolean byInodeOnly = identity.fingerprintBytes() == 0;
        Found copy = null;
        for (Path sibling : siblings()) {
            if (isCompressed(sibling)) {
                continue;
            }
            try (FileChannel channel = FileChannel.open(sibling, StandardOpenOption.READ)) {
                Map<String, Object> attributes = Files.readAttributes(sibling, "unix:dev,ino");
                long device = (Long) attributes.get("dev");
                long inode = (Long) attributes.get("ino");
                boolean sameInode = identity.device() == device && identity.inode() == inode;
                if (channel.size() < minSize || (byInodeOnly ? !sameInode : !identity.sameContent(channel))) {
                    continue;
                }
                Found found = new Found(sibling, device, inode);
                if (sameInode) {
                    return Optional.of(found);
                }
                copy = found;
            } catch (IOException e) {
                // unreadable or gone meanwhile: not the one
            }
        }
        return Optional.ofNullable(copy);
    }

    /**
     * The file written after the one with this device and inode: of the uncompressed siblings and the file at the
     * path, the one last modified soonest after it. Rotation keeps modification times, and each copy or rename
     * comes after the last write to the file before it, so this walks the files in the order they were written,
     * however many rotations happened while the tailer was behind. If the finished file is gone from the directory
     * (compressed, deleted), {@code lastSeenModified} (when it was last seen at the path) stands in for its time.
     */
    Optional<Found> after(long device, long inode, long lastSeenModified) {
        List<Path> files = new ArrayList<>(siblings());
        files.add(path);
        Long finishedModified = null;
        List<Found> found = new ArrayList<>();
        List<Long> modified = new ArrayList<>();
        for (Path file : files) {
            if (isCompressed(file)) {
                continue;
            }
            try {
                Map<String, Object> attributes = Files.readAttributes(file, "unix:dev,ino,lastModifiedTime");
                long fileDevice = (Long) attributes.get("dev");
                long fileInode = (Long) attributes.get("ino");
                long fileModified = ((FileTime) attributes.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
                if (fileDevice == device && fileInode == inode) {
                    finishedModified = fileModified;
                } else {
                    found.add(new Found(file, fileDevice, fileInode));
                    modified.add(fileModified);
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        if (finishedModified == null) {
            finishedModified = lastSeenModified;
        }
        Found next = null;
        long nextModified = Long.MAX_VALUE;
        for (int i = 0; i < found.size(); i++) {
            if (modified.get(i) >= finishedModified && modified.get(i) < nextModified) {
                next = found.get(i);
                nextModified = modified.get(i);
            }
        }
        return Optional.ofNullable(next);
    }

    /**
     * How many bytes after {@code offset} a gzip-compressed sibling holds for this identity, if there is one;
     * compressed files cannot be followed, so those bytes are lost.
     */
    Optional<Long> bytesLostInCompressedCopy(FileIdentity identity, long offset) {
        for (Path sibling : siblings()) {
            if (!sibling.getFileName().toString().endsWith(".gz") || identity.fingerprintBytes() == 0) {
                continue;
            }
            try (InputStream in = new GZIPInputStream(Files.newInputStream(sibling))) {
                if (identity.sameContent(in.readNBytes(identity.fingerprintBytes()))) {
                    return Optional.of(Math.max(0, uncompressedSize(sibling) - offset));
                }
            } catch (IOException e) {
                // not a readable gzip file: not the one
            }
        }
        return Optional.empty();
    }

    private List<Path> siblings() {
        List<Path> siblings = new ArrayList<>();
        Path dir = path.getParent();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, glob)) {
            for (Path file : files) {
                if (!file.equals(path) && Files.isRegularFile(file)) {
                    siblings.add(file);
                }
            }
        } catch (IOException e) {
            // directory unreadable: no siblings to offer
        }
        return siblings;
    }

    @Override
    public String toString() {
        return path.resolveSibling(glob).toString();
    }

    private static boolean isCompressed(Path file) {
        String name = file.getFileName().toString();
        return COMPRESSED.stream().anyMatch(name::endsWith);
    }

    /** gzip keeps the uncompressed size (mod 2^32) in its last four bytes, little-endian. */
    private static long uncompressedSize(Path gzip) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(gzip.toFile(), "r")) {
            byte[] trailer = new byte[4];
            file.seek(file.length() - 4);
            file.readFully(trailer);
            return ByteBuffer.wrap(trailer).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
        }
    }
}
