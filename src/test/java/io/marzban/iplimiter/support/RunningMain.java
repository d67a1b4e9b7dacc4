package io.marzban.iplimiter.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import org.apache.camel.main.Main;
import org.slf4j.LoggerFactory;

/** A Camel Main (the agent's or the limiter's) running on a thread of the test JVM, with what it logs. */
public final class RunningMain implements AutoCloseable {

    private static final Duration STOP_LIMIT = Duration.ofSeconds(30);

    private final Main main;
    private final Thread thread;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    /** Starts {@link Main#run()} on a thread called {@code threadName}. */
    public RunningMain(Main main, String threadName) {
        this.main = main;
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        logs.setContext(root.getLoggerContext());
        logs.start();
        root.addAppender(logs);
        this.thread = new Thread(() -> {
            try {
                main.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, threadName);
        thread.start();
    }

    public Main main() {
        return main;
    }

    /** True if a line containing {@code text} was logged since the start (at INFO or above, as configured for tests). */
    public boolean logged(String text) {
        return timesLogged(text) > 0;
    }

    /** How many lines logged since the start contain {@code text}. */
    public long timesLogged(String text) {
        synchronized (logs.list) {
            return logs.list.stream().filter(event -> event.getFormattedMessage().contains(text)).count();
        }
    }

    /** Graceful stop, as on SIGTERM. */
    @Override
    public void close() throws InterruptedException {
        main.completed();
        thread.join(STOP_LIMIT.toMillis());
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }
}
