package io.marzban.iplimiter.agent;

import io.marzban.iplimiter.agent.parse.AccessLineParser;
import io.marzban.iplimiter.agent.parse.LogZone;
import io.marzban.iplimiter.agent.position.RedisPositionStore;
import io.marzban.iplimiter.agent.ship.BatchAggregation;
import io.marzban.iplimiter.agent.ship.BatchQueue;
import io.marzban.iplimiter.agent.ship.BatchWriter;
import io.marzban.iplimiter.agent.ship.EventJson;
import io.marzban.iplimiter.agent.ship.Heartbeat;
import io.marzban.iplimiter.agent.tail.TailConstants;
import io.marzban.iplimiter.agent.tail.TailStatus;
import io.marzban.iplimiter.main.HalfMain;
import java.time.Clock;
import java.time.Duration;
import org.apache.camel.main.Main;
import org.slf4j.LoggerFactory;

/** The agent's wiring: the beans routes/agent.yaml names, around the shared start of {@link HalfMain}. */
public final class Agent {

    /** Completed batches waiting for the writer; a full queue pauses reading. */
    private static final int QUEUED_BATCHES = 4;

    private Agent() {
    }

    public static void main(String[] args) throws Exception {
        HalfMain.run(args, AgentSettings::fromEnvironment, AgentSettings::nodeId,
                settings -> create(settings, Clock.systemUTC()));
    }

    /** The Camel Main of the agent, with its beans; {@link Main#run()} runs it until {@link Main#completed()}. */
    public static Main create(AgentSettings settings, Clock clock) {
        LoggerFactory.getLogger(Agent.class).info("Node {} ({}): shipping {} to {} list {}", settings.nodeId(),
                settings.nodeName(), settings.accessLogPath(), settings.centralRedis(), settings.queueKey());
        HalfMain half = new HalfMain("marzban-ip-limiter-node", settings.nodeId(), settings);
        RedisPositionStore positions = half.bind("positionStore",
                new RedisPositionStore(half.redis(), half.keys(), settings.nodeId()));
        BatchQueue batchQueue = half.bind("batchQueue", new BatchQueue(QUEUED_BATCHES));
        LogZone logZone = half.bind("logZone", settings.logTimezone() == null ? LogZone.learned(clock)
                : LogZone.fixed(settings.logTimezone(), clock));
        AccessLineParser parser = half.bind("accessLineParser",
                new AccessLineParser(settings.nodeId(), settings.nodeName(), logZone, clock));
        // the JVM's start, not this moment: lines logged while the JVM was starting count as written since the start
        half.bind("stampedSinceStart", parser.stampedSince(ProcessHandle.current().info().startInstant()
                .orElseGet(clock::instant)));
        AddressMasking masking = new AddressMasking();
        half.bind("skippedLines", new SkippedLines(half.meters(), masking));
        half.bind("eventJson", new EventJson());
        half.bind("batchAggregation", new BatchAggregation(TailConstants.POSITION_HEADER,
                TailConstants.CAUGHT_UP_HEADER, TailConstants.READ_GENERATION_HEADER));
        Heartbeat heartbeat = new Heartbeat(half.keys(), settings.nodeId(), settings.nodeName(),
                settings.accessLogPath(), clock);
        TailStatus tails = TailStatus.of(half.main()::getCamelContext);
        BatchWriter batchWriter = half.bind("batchWriter", new BatchWriter(half.redis(), positions, heartbeat,
                settings.queueKey(), tails::readAgain, settings.maxEventsPerSecond()));
        half.bind("shippingReadiness", new ShippingReadiness(half.redis(), batchWriter, masking, logZone,
                Duration.ofMillis(settings.shippingStuckAfterMillis())));
        ShippingMetrics.register(half.meters(), tails, half.redis(), batchWriter, masking);
        heartbeat.measureLagWith(tails::bytesAfter);
        half.main().addMainListener(new GracefulStop(tails, batchQueue, half.redis(),
                Duration.ofMillis(settings.shutdownTimeoutMillis())));
        return half.main();
    }
}
