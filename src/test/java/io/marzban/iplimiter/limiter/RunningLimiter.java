package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.support.RunningMain;
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

/** The limiter's Camel Main in the test JVM, started and stopped the way Limiter.main does. */
final class RunningLimiter implements AutoCloseable {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final RunningMain running;

    private RunningLimiter(Main main) {
        this.running = new RunningMain(main, "limiter-main");
    }

    static RunningLimiter start(Map<String, String> env) throws InterruptedException {
        RunningLimiter limiter = new RunningLimiter(Limiter.create(LimiterSettings.fromEnvironment(env),
                Clock.systemUTC()));
        Wait.until("the limiter runs", LIMIT, limiter::isStarted);
        return limiter;
    }

    boolean isStarted() {
        CamelContext context = running.main().getCamelContext();
        return context != null && context.isStarted();
    }

    /** The value of a counter (summed over its tags) or gauge; 0 before it exists. */
    double meter(String name) {
        MeterRegistry registry = running.main().getCamelContext().getRegistry()
                .lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME, MeterRegistry.class);
        Search search = registry.find(name);
        if (!search.counters().isEmpty()) {
            return search.counters().stream().mapToDouble(Counter::count).sum();
        }
        return search.gauge() == null ? 0 : search.gauge().value();
    }

    /** The value of the counter with this tag; 0 before it exists. */
    double counter(String name, String tag, String value) {
        Counter counter = running.main().getCamelContext().getRegistry()
                .lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME, MeterRegistry.class)
                .find(name).tag(tag, value).counter();
        return counter == null ? 0 : counter.count();
    }

    /** Waits until {@code more} further user checks have completed. */
    void awaitChecks(int more) throws InterruptedException {
        double target = meter("marzban_limiter_checks") + more;
        Wait.until(more + " more checks", LIMIT, () -> meter("marzban_limiter_checks") >= target);
    }

    boolean logged(String text) {
        return running.logged(text);
    }

    @Override
    public void close() throws InterruptedException {
        running.close();
    }
}
