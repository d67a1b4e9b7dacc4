package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.agent.AgentSettings;
import io.marzban.iplimiter.support.RunningMain;
import io.marzban.iplimiter.support.Wait;
import io.marzban.iplimiter.agent.tail.TailStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.main.Main;

/** The agent's Camel Main running in the test JVM, started and stopped the way Agent.main does. */
public final class RunningAgent implements AutoCloseable {

    private static final Duration LIMIT = Duration.ofSeconds(30);

    private final RunningMain running;

    private RunningAgent(Main main) {
        this.running = new RunningMain(main, "agent-main");
    }

    /** Starts the agent and waits until it follows the log file. */
    public static RunningAgent start(Map<String, String> env) throws InterruptedException {
        RunningAgent agent = new RunningAgent(Agent.create(AgentSettings.fromEnvironment(env), Clock.systemUTC()));
        Wait.until("the agent follows its log", LIMIT, agent::isFollowing);
        return agent;
    }

    /**
     * Starts the agent on another thread, for a start that waits (for the log file, for Redis) longer than the
     * test wants to block; closing it waits for the start, then stops the agent.
     */
    public static AutoCloseable startInBackground(Map<String, String> env) {
        RunningAgent[] started = new RunningAgent[1];
        Thread starter = new Thread(() -> {
            try {
                started[0] = start(env);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "agent-starter");
        starter.start();
        return () -> {
            starter.join();
            if (started[0] != null) {
                started[0].close();
            }
        };
    }

    boolean isFollowing() {
        CamelContext context = running.main().getCamelContext();
        return context != null && context.isStarted()
                && TailStatus.of(() -> running.main().getCamelContext()).isFollowing();
    }

    /** True if the running route was loaded from a file containing {@code text}. */
    boolean routeDefinitionContains(String text) {
        try (InputStream in = running.main().getCamelContext().getRoute("ship-access-log").getSourceResource().getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines skipped for {@code reason} so far (micrometer counter marzban_lines_skipped). */
    double skipped(String reason) {
        MeterRegistry registry = running.main().getCamelContext().getRegistry()
                .lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME, MeterRegistry.class);
        Search search = registry.find("marzban_lines_skipped").tag("reason", reason);
        Counter counter = search.counter();
        if (counter != null) {
            return counter.count();
        }
        FunctionCounter counted = search.functionCounter(); // lines the tailer skipped before they became exchanges
        return counted == null ? 0 : counted.count();
    }

    /** True if the agent logged a line containing {@code text} (at INFO or above, as configured for tests). */
    boolean logged(String text) {
        return running.logged(text);
    }

    /** How many lines the agent logged that contain {@code text}. */
    long timesLogged(String text) {
        return running.timesLogged(text);
    }

    /** Graceful stop, as on SIGTERM. */
    @Override
    public void close() throws InterruptedException {
        running.close();
    }
}
