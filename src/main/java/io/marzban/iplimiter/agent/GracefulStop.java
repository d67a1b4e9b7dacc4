package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.agent.ship.BatchQueue;
import io.marzban.iplimiter.agent.tail.TailStatus;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.processor.aggregate.AggregateProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On stop: stop reading, write the partial batch and wait for it, then close the connection. The aggregator's
 * own forceCompletionOnStop loses the partial batch (its error handler is already stopping), so the batch is
 * completed here, before Camel starts stopping routes.
 */
final class GracefulStop extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);

    private final TailStatus tails;
    private final BatchQueue batchQueue;
    private final CentralRedis redis;
    private final Duration timeout;

    GracefulStop(TailStatus tails, BatchQueue batchQueue, CentralRedis redis, Duration timeout) {
        this.tails = tails;
        this.batchQueue = batchQueue;
        this.redis = redis;
        this.timeout = timeout;
    }

    @Override
    public void beforeStop(BaseMainSupport main) {
        CamelContext context = main.getCamelContext();
        if (context == null) {
            return;
        }
        // on its own thread, so that a Redis that does not come back cannot hold the stop beyond the timeout
        Thread flush = new Thread(() -> writeWhatWasRead(context), "final-flush");
        flush.start();
        try {
            flush.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (flush.isAlive()) {
            flush.interrupt();
            LOG.warn("Stopped reading; the last events could not be written within {} s (SHUTDOWN_TIMEOUT) and are "
                    + "not committed: they will be read again at the next start", timeout.toSeconds());
        } else {
            LOG.info("Stopped reading; every read event is written and its position committed");
        }
    }

    private void writeWhatWasRead(CamelContext context) {
        try {
            tails.stopReading();
            for (Route route : context.getRoutes()) {
                for (Processor processor : route.filter("*")) {
                    if (processor instanceof AggregateProcessor aggregator) {
                        aggregator.forceCompletionOfAllGroups();
                    }
                }
            }
            batchQueue.awaitIdle();
        } catch (InterruptedException | RuntimeException e) {
            LOG.debug("Final flush ended early: {}", e.toString());
        }
    }

    @Override
    public void afterStop(BaseMainSupport main) {
        batchQueue.shutdownNow();
        redis.close();
    }
}
