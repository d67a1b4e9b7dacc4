package io.marzban.iplimiter.agent.tail;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets the tailer sleep until something in the log's directory changes (inotify on Linux), so an idle agent
 * costs no CPU and a new line is read at once. Where the directory cannot be watched (it does not exist yet, a
 * network file system, a bind-mounted single file) waiting falls back to plain polling.
 */
final class DirectoryWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryWatch.class);

    private final Path directory;
    private WatchService service;
    private boolean warned;

    DirectoryWatch(Path directory) {
        this.directory = directory;
    }

    /**
     * Returns when the directory reports a change, or after {@code maxMillis}, whichever is first; at once when
     * the watch has just begun (after {@link #close()}): what changed while nothing watched was never reported.
     */
    void await(long maxMillis) throws InterruptedException {
        boolean wasWatching = service != null;
        WatchService watching = watching();
        if (watching == null) {
            Thread.sleep(maxMillis);
            return;
        }
        if (!wasWatching) {
            return;
        }
        try {
            WatchKey key = watching.poll(maxMillis, TimeUnit.MILLISECONDS);
            while (key != null) {
                key.pollEvents();
                if (!key.reset()) {
                    close(); // the directory went away: watch it again once it is back
                    return;
                }
                key = watching.poll(); // drain, so a burst of writes wakes us once
            }
        } catch (ClosedWatchServiceException e) {
            service = null;
        }
    }

    private WatchService watching() {
        if (service == null) {
            try {
                WatchService created = FileSystems.getDefault().newWatchService();
                try {
                    directory.register(created, StandardWatchEventKinds.ENTRY_CREATE,
                            StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
                } catch (IOException | RuntimeException e) {
                    created.close();
                    throw e;
                }
                service = created;
                warned = false;
            } catch (IOException | RuntimeException e) {
                if (!warned) {
                    LOG.debug("Cannot watch {} for changes ({}); polling it instead", directory, e.toString());
                    warned = true;
                }
            }
        }
        return service;
    }

    @Override
    public void close() {
        try (WatchService closing = service) {
            service = null;
        } catch (IOException ignored) {
            // nothing was written through it
        }
    }
}
