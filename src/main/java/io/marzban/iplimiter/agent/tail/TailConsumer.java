package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.PositionStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckAware;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.support.DefaultConsumer;

/**
 * Runs a {@link FileTailer} on its own thread and sends each group of lines ({@code List<String>}, file order)
 * through the route synchronously, with the position just after its last line in the
 * {@value TailConstants#POSITION_HEADER} header. Groups rather than single lines: the route's fixed cost per
 * exchange is paid once per group. Camel's consumer health check (readiness) is DOWN while the log cannot be read.
 */
public final class TailConsumer extends DefaultConsumer implements TailStatus, HealthCheckAware {

    private final TailOptions options;
    private final PositionStore positions;
    private FileTailer tailer;
    /** Counted by tailers of earlier starts of this consumer (a route can be stopped and started). */
    private long linesTooLongBefore;
    private long linesReadBefore;
    private ExecutorService thread;
    /** The read generation of the current tailer; each {@link #readAgain()} starts a tailer of the next. */
    private long generation;
    private HealthCheck healthCheck = new LogReadable();

    TailConsumer(TailEndpoint endpoint, Processor processor, TailOptions options, PositionStore positions) {
        super(endpoint, processor);
        this.options = options;
        this.positions = positions;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        thread = getEndpoint().getCamelContext().getExecutorServiceManager()
                .newSingleThreadExecutor(this, "tail " + options.path());
        startTailer();
    }

    private void startTailer() {
        long stamp = generation;
        tailer = new FileTailer(options, positions,
                (lines, end, caughtUp, writtenAfter) -> send(lines, end, caughtUp, writtenAfter, stamp));
        thread.execute(tailer); // after the tailer before it has returned: one reader at a time
    }

    /**
     * The current tailer is told to stop (it hands over what it was reading, of the old generation) and a new one
     * begins on the same thread once it has, from the position the store holds then.
     */
    @Override
    public synchronized long readAgain() {
        FileTailer previous = tailer;
        if (previous == null) {
            return generation;
        }
        previous.stop();
        linesTooLongBefore += previous.linesTooLong();
        linesReadBefore += previous.linesRead();
        generation++;
        startTailer();
        return generation;
    }

    /**
     * Stops reading: the lines being processed finish, nothing after them is read. Unlike {@link #stop()} this
     * leaves the route running, so a batch completed afterwards can still be written (stopping the consumer
     * service puts the route's error handler into shutdown, which rejects that batch).
     */
    @Override
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

    @Override
    public String problem() {
        FileTailer current = tailer;
        return current == null ? "not reading (the route is stopped)" : current.problem();
    }

    @Override
    public boolean isFollowing() {
        FileTailer current = tailer;
        return current != null && current.isFollowing();
    }

    /** Lines sent through the route since this consumer was created. */
    @Override
    public long linesRead() {
        FileTailer current = tailer;
        return linesReadBefore + (current == null ? 0 : current.linesRead());
    }

    @Override
    public long bytesAfter(FilePosition committed) {
        FileTailer current = tailer;
        return current == null ? 0 : current.bytesAfter(committed);
    }

    /** Lines skipped as longer than maxLineBytes since this consumer was created. */
    @Override
    public long linesTooLong() {
        FileTailer current = tailer;
        return linesTooLongBefore + (current == null ? 0 : current.linesTooLong());
    }

    @Override
    public HealthCheck getHealthCheck() {
        return healthCheck;
    }

    @Override
    public void setHealthCheck(HealthCheck healthCheck) {
        this.healthCheck = healthCheck;
    }

    private void send(List<String> lines, FilePosition endOfLastLine, boolean caughtUp, long writtenAfterNanos,
                      long readGeneration) throws Exception {
        Exchange exchange = createExchange(false);
        try {
            exchange.getMessage().setBody(lines);
            exchange.getMessage().setHeader(TailConstants.POSITION_HEADER, endOfLastLine);
            exchange.getMessage().setHeader(TailConstants.CAUGHT_UP_HEADER, caughtUp);
            exchange.getMessage().setHeader(TailConstants.READ_GENERATION_HEADER, readGeneration);
            if (writtenAfterNanos != 0) {
                exchange.getMessage().setHeader(TailConstants.WRITTEN_AFTER_HEADER, writtenAfterNanos);
            }
            getProcessor().process(exchange);
            if (exchange.getException() != null) {
                throw exchange.getException();
            }
        } finally {
            releaseExchange(exchange, false);
        }
    }

    /**
     * DOWN, with the reason, while the log cannot be read (missing, permission denied). Readiness only: a process
     * waiting for its log is alive, and restarting it would not make the log appear.
     */
    private final class LogReadable extends AbstractHealthCheck {

        LogReadable() {
            super("marzban", "tail");
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            String problem = problem();
            if (problem == null || HealthCheck.Kind.LIVENESS.equals(options.get(HealthCheck.CHECK_KIND))) {
                builder.up();
            } else {
                builder.down().message(problem);
            }
        }
    }
}
