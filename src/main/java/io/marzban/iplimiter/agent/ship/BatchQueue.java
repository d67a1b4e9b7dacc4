package io.marzban.iplimiter.agent.ship;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The aggregator's executor: one thread writes completed batches in the order they were completed, and a
 * full queue blocks whoever completes the next batch. That blocking is the backpressure that stops the tailer
 * while Redis is slow or down (the log file is the buffer). Camel's own pools would run an overflowing batch
 * on the caller's thread, which can reorder batches and commit a position past an unwritten one.
 */
public final class BatchQueue extends ThreadPoolExecutor {

    public BatchQueue(int capacity) {
        super(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(capacity), runnable -> {
            Thread thread = new Thread(runnable, "batch-writer");
            thread.setDaemon(true);
            return thread;
        }, (task, executor) -> {
            if (executor.isShutdown()) {
                throw new RejectedExecutionException("the batch writer has stopped");
            }
            try {
                executor.getQueue().put(task);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RejectedExecutionException("interrupted while waiting for the batch writer", e);
            }
        });
    }

    /** Waits until every batch handed over so far has been written. */
    public void awaitIdle() throws InterruptedException {
        try {
            submit(() -> { }).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("an empty task cannot fail", e);
        }
    }
}
