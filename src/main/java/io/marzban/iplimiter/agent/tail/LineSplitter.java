package io.marzban.iplimiter.agent.tail;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts bytes read from a file into lines at {@code \n}, decoded as UTF-8, each with the file offsets where it
 * starts and ends. No I/O: the caller reads, and reads again from {@link #split}'s answer. Runs of NUL bytes
 * before a line (padding some writers leave after a truncation) belong to no line. A line longer than
 * {@code maxLineBytes} is skipped and counted, and never held whole: once a buffer holds more than that of it,
 * its bytes are dropped up to its {@code \n}.
 */
final class LineSplitter {

    /** Takes the lines in file order; false stops the splitting (the line is then taken again later). */
    @FunctionalInterface
    interface Lines {
        boolean take(String line, long start, long end) throws InterruptedException;
    }

    /** The tailer's logger: its lines keep the name operators filter on (docs show them as FileTailer). */
    private static final Logger LOG = LoggerFactory.getLogger(FileTailer.class);

    private final String fileName;
    private final int maxLineBytes;
    private final AtomicLong linesTooLong = new AtomicLong();
    private long lastLongLineWarningNanos;
    /** Inside a line longer than maxLineBytes: drop bytes up to its {@code \n}. */
    private boolean skippingLongLine;

    LineSplitter(String fileName, int maxLineBytes) {
        this.fileName = fileName;
        this.maxLineBytes = maxLineBytes;
    }

    /**
     * Hands {@code lines} each complete line among the first {@code length} bytes, which were read at file
     * offset {@code base}.
     *
     * @return where the next read starts: the start of the line not complete yet, or after all the bytes while an
     *         over-long line is being skipped; -1 when {@code lines} stopped the splitting
     */
    long split(byte[] bytes, int length, long base, Lines lines) throws InterruptedException {
        int lineStart = 0;
        int highBits = 0; // the line's bytes OR-ed together: negative once one of them is not ASCII
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            highBits |= b;
            if (b == 0 && i == lineStart && !skippingLongLine) {
                lineStart = i + 1;
            } else if (b == '\n') {
                if (skippingLongLine) {
                    skippingLongLine = false;
                } else if (i - lineStart > maxLineBytes) {
                    countLongLine(base + lineStart);
                } else if (!lines.take(decode(bytes, lineStart, i - lineStart, highBits < 0),
                        base + lineStart, base + i + 1)) {
                    return -1;
                }
                lineStart = i + 1;
                highBits = 0;
            }
        }
        if (skippingLongLine || length - lineStart > maxLineBytes) {
            if (!skippingLongLine) {
                skippingLongLine = true;
                countLongLine(base + lineStart);
            }
            return base + length;
        }
        return base + lineStart;
    }

    /**
     * The line as text. An ASCII line (nearly all of them) is copied as it is: the same String as UTF-8 decoding
     * would give, without a second pass over its bytes to look for non-ASCII ones.
     */
    @SuppressWarnings("deprecation") // String(byte[], int hibyte, ...) is the copy without a charset's checks
    private static String decode(byte[] bytes, int start, int count, boolean notAscii) {
        return notAscii ? new String(bytes, start, count, StandardCharsets.UTF_8) : new String(bytes, 0, start, count);
    }

    /** True while the bytes of an over-long line are being dropped: the line's end is still to come. */
    boolean inLongLine() {
        return skippingLongLine;
    }

    /** Reading starts again at the start of a line (another file, the file again, lines offered again). */
    void restartAtLine() {
        skippingLongLine = false;
    }

    /** Lines skipped because they were longer than the limit. */
    long linesTooLong() {
        return linesTooLong.get();
    }

    private void countLongLine(long at) {
        long count = linesTooLong.incrementAndGet();
        long now = System.nanoTime();
        if (count == 1 || now - lastLongLineWarningNanos >= TimeUnit.MINUTES.toNanos(1)) {
            // at most one line a minute: a file of garbage must not flood the log
            LOG.warn("Skipping a line of more than {} bytes at offset {} of {} (MAX_LINE_BYTES; {} such lines so far)",
                    maxLineBytes, at, fileName, count);
            lastLongLineWarningNanos = now;
        }
    }
}
