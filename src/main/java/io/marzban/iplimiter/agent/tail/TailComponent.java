package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.PositionStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.camel.Endpoint;
import org.apache.camel.support.DefaultComponent;

/**
 * {@code tail:/path/to/access.log?options}: follows a growing log file, groups of complete lines per exchange.
 * The options are {@link TailOptions}' (the group size as {@code linesPerExchange}, the durations as
 * {@code pollDelay}, {@code readInterval} and {@code rotationQuietPeriod}, in milliseconds), and
 * {@code positionStore=#bean:<name>}; Camel converts the values, {@code startPosition=end} included.
 */
public final class TailComponent extends DefaultComponent {

    @Override
    @SuppressWarnings("unchecked")
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        PositionStore positions = resolveAndRemoveReferenceParameter(parameters, "positionStore", PositionStore.class);
        if (positions == null) {
            throw new IllegalArgumentException("tail:" + remaining + " needs positionStore=#bean:<name>");
        }
        Predicate<String> writtenSinceStart = resolveAndRemoveReferenceParameter(parameters, "writtenSinceStart",
                Predicate.class, TailOptions.WRITTEN_SINCE_START);
        TailOptions options = new TailOptions(Path.of(remaining),
                getAndRemoveParameter(parameters, "startPosition", StartPosition.class, TailOptions.START_POSITION),
                writtenSinceStart,
                getAndRemoveParameter(parameters, "maxLineBytes", Integer.class, TailOptions.MAX_LINE_BYTES),
                getAndRemoveParameter(parameters, "linesPerExchange", Integer.class, TailOptions.LINES_PER_GROUP),
                getAndRemoveParameter(parameters, "pollDelay", Long.class, TailOptions.POLL_MILLIS),
                getAndRemoveParameter(parameters, "readInterval", Long.class, TailOptions.READ_INTERVAL_MILLIS),
                getAndRemoveParameter(parameters, "rotationQuietPeriod", Long.class, TailOptions.ROTATION_QUIET_MILLIS),
                getAndRemoveParameter(parameters, "rotatedPattern", String.class));
        TailEndpoint endpoint = new TailEndpoint(uri, this, options, positions);
        setProperties(endpoint, parameters); // Camel's own consumer options, e.g. bridgeErrorHandler
        return endpoint;
    }
}
