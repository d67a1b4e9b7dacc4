package io.marzban.iplimiter.limiter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * USER_LIMITS_FILE: one user a line, {@code <username> <limit>} or {@code <username> exempt}; blank lines and lines
 * starting with # are skipped. Read again at the next check after it changes (time, size or inode), so no restart is
 * needed; each change is logged user by user. A file that became unreadable or bad is logged and the limits read
 * before stay. Marzban's usernames are case-insensitive, and so are the names here.
 */
public final class LimitFile {

    private static final Logger LOG = LoggerFactory.getLogger(LimitFile.class);

    private final Path path;
    private Map<String, Limit> limits;
    /** Modification time, size and inode of the version read last, or of the bad version seen last. */
    private String stamp;

    private LimitFile(Path path, Map<String, Limit> limits, String stamp) {
        this.path = path;
        this.limits = limits;
        this.stamp = stamp;
    }

    /** @throws IllegalArgumentException naming the first bad line; IOException when it cannot be read */
    public static LimitFile read(Path path) throws IOException {
        String stamp = stamp(path);
        return new LimitFile(path, parse(Files.readAllLines(path)), stamp);
    }

    /** @throws IllegalArgumentException naming the first bad line */
    static Map<String, Limit> parse(List<String> lines) {
        Map<String, Limit> perUser = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split("\\s+");
            if (fields.length != 2) {
                throw new IllegalArgumentException("line " + (i + 1) + " '" + line + "' is not '<username> <limit>' "
                        + "or '<username> exempt'");
            }
            try {
                perUser.put(fields[0].toLowerCase(Locale.ROOT), Limit.parse(fields[1]));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return Map.copyOf(perUser);
    }

    /** The limits the file holds now, read again if it changed since the last call. */
    public synchronized Map<String, Limit> current() {
        String now;
        try {
            now = stamp(path);
        } catch (IOException e) {
            now = "unreadable";
        }
        if (now.equals(stamp)) {
            return limits;
        }
        stamp = now;
        try {
            Map<String, Limit> read = parse(Files.readAllLines(path));
            logChanges(read);
            limits = read;
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("USER_LIMITS_FILE {} changed but cannot be used ({}); the limits read before stay", path,
                    e.getMessage());
        }
        return limits;
    }

    private void logChanges(Map<String, Limit> read) {
        TreeSet<String> users = new TreeSet<>(limits.keySet());
        users.addAll(read.keySet());
        for (String user : users) {
            Limit before = limits.get(user);
            Limit after = read.get(user);
            if (!Objects.equals(before, after)) {
                LOG.info("Limit of user {}: {} -> {}, changed by USER_LIMITS_FILE {}", user,
                        before == null ? "default" : before, after == null ? "default" : after, path);
            }
        }
    }

    private static String stamp(Path path) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        // the inode too: a file replaced by a rename (as an editor or a Kubernetes ConfigMap does) is a new one
        return attributes.lastModifiedTime() + ":" + attributes.size() + ":" + attributes.fileKey();
    }

    @Override
    public String toString() {
        return limits.size() + " users with their own limit in " + path;
    }
}
