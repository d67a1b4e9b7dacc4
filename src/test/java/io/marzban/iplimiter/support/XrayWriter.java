package io.marzban.iplimiter.support;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Writes numbered access lines the way Xray does: one write per line through a handle it keeps open, so after a
 * rename it goes on writing into the renamed file until {@link #reopen()}. {@link #between(IoAction)} runs a
 * rotation step between two writes. {@link #written()} is every line in the order written: the expected events.
 */
public final class XrayWriter implements AutoCloseable {

    /** A rotation step, run while no line is being written. */
    @FunctionalInterface
    public interface IoAction {
        void run() throws IOException;
    }

    private final Path log;
    private final boolean append;
    private final long pauseMillis;
    private final int linesPerPause;
    private final List<String> written = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean running = true;
    private OutputStream appender;
    private RandomAccessFile positioned;
    private int next;

    /**
     * @param append true: O_APPEND, as Xray opens its log; false: a writer that keeps its own offset, which after
     *               a truncation leaves a gap of NUL bytes
     */
    public XrayWriter(Path log, boolean append, long pauseMillis) throws IOException {
        this(log, append, pauseMillis, 1);
    }

    /** Writes {@code linesPerPause} lines, then pauses: 5 lines per millisecond is ~5,000 lines/s. */
    public XrayWriter(Path log, boolean append, long pauseMillis, int linesPerPause) throws IOException {
        this.log = log;
        this.append = append;
        this.pauseMillis = pauseMillis;
        this.linesPerPause = linesPerPause;
        open();
        thread = new Thread(this::run, "xray-writer");
        thread.start();
    }

    public synchronized void between(IoAction action) throws IOException {
        action.run();
    }

    /** Closes the handle and opens the path again (creating the file), as Xray does after a while. */
    public synchronized void reopen() throws IOException {
        closeHandle();
        open();
    }

    /** Closes the handle and deletes the file; nothing is written until {@link #reopen()}. */
    public synchronized void delete() throws IOException {
        closeHandle();
        Files.delete(log);
    }

    public int count() {
        return written.size();
    }

    public List<String> written() {
        synchronized (written) {
            return List.copyOf(written);
        }
    }

    /** Stops writing and returns every line written. */
    @Override
    public void close() throws Exception {
        running = false;
        thread.join();
        synchronized (this) {
            closeHandle();
        }
    }

    private void run() {
        try {
            while (running) {
                for (int i = 0; i < linesPerPause; i++) {
                    writeOne();
                }
                Thread.sleep(pauseMillis);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void writeOne() throws IOException {
        if (appender == null && positioned == null) {
            return; // deleted, not reopened yet
        }
        String line = AccessLines.numbered(next++);
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        if (append) {
            appender.write(bytes);
        } else {
            positioned.write(bytes);
        }
        written.add(line);
    }

    private void open() throws IOException {
        if (append) {
            appender = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } else {
            positioned = new RandomAccessFile(log.toFile(), "rw");
            positioned.seek(positioned.length());
        }
    }

    private void closeHandle() throws IOException {
        if (appender != null) {
            appender.close();
            appender = null;
        }
        if (positioned != null) {
            positioned.close();
            positioned = null;
        }
    }
}
