package io.marzban.iplimiter.tail;

import io.marzban.iplimiter.position.FilePosition;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultConsumer;

/**
 * Runs a {@link FileTailer} on its own thread and sends each group of lines ({@code List<String>}, file order)
 * through the route synchronously, with the position just after its last line in the {@value #POSITION_HEADER}
 * header. Groups rather than single lines: the route's fixed cost per exchange is paid once per group.
 */
public final class TailConsumer extends DefaultConsumer {

    /** Header with the {@link io.marzban.iplimiter.position.FilePosition} just after the last line in the body. */
    public static final String POSITION_HEADER = "TailPosition";
    /**
     * Header, true on the last group of a read that began more than 128 KiB behind: the tailer was behind (a burst,
     * a backlog) and has caught up with the file, so waiting for more lines to fill a batch would only add delay.
     */
    public static final String CAUGHT_UP_HEADER = "TailCaughtUp";

    private final TailEndpoint endpoint;
    private FileTailer tailer;
    /** Counted by tailers of earlier starts of this consumer (a route can be stopped and started). */
    private long linesTooLongBefore;
    private long linesReadBefore;
    private ExecutorService thread;

    TailConsumer(TailEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
        this.endpoint = endpoint;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        tailer = new FileTailer(Path.of(endpoint.getPath()), endpoint.getStartPosition(),
                endpoint.getWrittenSinceStart(), endpoint.getMaxLineBytes(), endpoint.getLinesPerExchange(), endpoint.getPollDelay(), endpoint.getReadInterval(),
                endpoint.getRotationQuietPeriod(), endpoint.getRotatedPattern(), endpoint.getPositionStore(),
                this::send);
        thread = getEndpoint().getCamelContext().getExecutorServiceManager()
                .newSingleThreadExecutor(this, "tail " + endpoint.getPath());
        thread.execute(tailer);
    }

    /**
     * Stops reading: the lines being processed finish, nothing after them is read. Unlike {@link #stop()} this
     * leaves the route running, so a batch completed afterwards can still be written (stopping the consumer
     * service puts the route's error handler into shutdown, which rejects that batch).
     */
    public void stopReading() throws InterruptedException {
        if (tailer != null) {
            tailer.stop();
            thread.shutdown();
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                thread.shutdownNow(); // blocked behind a writer that cannot write: its lines are not committed
            }
        }
    }

    @Override
    protected void doStop() throws Exception {
        if (tailer != null) {
            stopReading();
            getEndpoint().getCamelContext().getExecutorServiceManager().shutdown(thread);
            linesTooLongBefore += tailer.linesTooLong();
            linesReadBefore += tailer.linesRead();
            tailer = null;
        }
        super.doStop();
    }

    /** Why the log cannot be read right now, or null. */
    public String problem() {
        FileTailer current = tailer;
        return current == null ? "not reading (the route is stopped)" : current.problem();
    }

    /** True while a file is open and positioned (false while waiting for the file or the position store). */
    public boolean isFollowing() {
        FileTailer current = tailer;
        return current != null && current.isFollowing();
    }

    /** Lines sent through the route since this consumer was created. */
    public long linesRead() {
        FileTailer current = tailer;
        return linesReadBefore + (current == null ? 0 : current.linesRead());
    }

    /** Bytes of the log not yet shipped, measured against the last committed position. */
    public long bytesAfter(FilePosition committed) {
        FileTailer current = tailer;
        return current == null ? 0 : current.bytesAfter(committed);
    }

    /** Lines skipped as longer than maxLineBytes since this consumer was created. */
    public long linesTooLong() {
        FileTailer current = tailer;
        return linesTooLongBefore + (current == null ? 0 : current.linesTooLong());
    }

    private void send(List<String> lines, FilePosition endOfLastLine, boolean caughtUp) throws Exception {
        Exchange exchange = createExchange(false);
        try {
            exchange.getMessage().setBody(lines);
            exchange.getMessage().setHeader(POSITION_HEADER, endOfLastLine);
            exchange.getMessage().setHeader(CAUGHT_UP_HEADER, caughtUp);
            getProcessor().process(exchange);
            if (exchange.getException() != null) {
                throw exchange.getException();
            }
        } finally {
            releaseExchange(exchange, false);
        }
    }
}
