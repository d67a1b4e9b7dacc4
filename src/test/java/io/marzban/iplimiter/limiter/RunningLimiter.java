package io.marzban.iplimiter.limiter;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.marzban.iplimiter.support.Wait;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.Main;
import org.slf4j.LoggerFactory;

/** The limiter's Camel Main in the test JVM, started and stopped the way Limiter.main does. */
final class RunningLimiter implements AutoCloseable {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final Main main;
    private final Thread thread;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    private RunningLimiter(Main main) {
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
        }, "limiter-main");
    }

    static RunningLimiter start(Map<String, String> env) throws InterruptedException {
        RunningLimiter limiter = new RunningLimiter(Limiter.create(LimiterSettings.fromEnvironment(env),
                Clock.systemUTC()));
        limiter.thread.start();
        Wait.until("the limiter runs", LIMIT, limiter::isStarted);
        return limiter;
    }

    boolean isStarted() {
        CamelContext context = main.getCamelContext();
        return context != null && context.isStarted();
    }

    /** The value of a counter (summed over its tags) or gauge; 0 before it exists. */
    double meter(String name) {
        MeterRegistry registry = main.getCamelContext().getRegistry()
                .lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME, MeterRegistry.class);
        Search search = registry.find(name);
        if (!search.counters().isEmpty()) {
            return search.counters().stream().mapToDouble(Counter::count).sum();
        }
        return search.gauge() == null ? 0 : search.gauge().value();
    }

    /** Waits until {@code more} further user checks have completed. */
    void awaitChecks(int more) throws InterruptedException {
        double target = meter("marzban_limiter_checks") + more;
        Wait.until(more + " more checks", LIMIT, () -> meter("marzban_limiter_checks") >= target);
    }

    boolean logged(String text) {
        synchronized (logs.list) {
            return logs.list.stream().anyMatch(event -> event.getFormattedMessage().contains(text));
        }
    }

    @Override
    public void close() throws InterruptedException {
        main.completed();
        thread.join(LIMIT.toMillis());
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }
}
