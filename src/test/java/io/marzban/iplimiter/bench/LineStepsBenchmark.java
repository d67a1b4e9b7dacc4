package io.marzban.iplimiter.bench;

import io.marzban.iplimiter.agent.parse.AccessLineParser;
import io.marzban.iplimiter.agent.parse.LogZone;
import io.marzban.iplimiter.agent.parse.ParsedLines;
import io.marzban.iplimiter.agent.ship.EventJson;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-line steps of the route on the tailer's thread, per line, in a group of 50 lines shaped like the
 * benchmark harness's (and Xray's). Run under the agent's own JVM flags: the C1 compiler only, so the figures are
 * those of a running agent, not of a C2-compiled steady state. How to run: docs/PERFORMANCE.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx64m"})
public class LineStepsBenchmark {

    private static final int GROUP = 50;

    private final AccessLineParser parser =
            new AccessLineParser("bench-node", "bench",
                    LogZone.fixed(ZoneOffset.UTC, Clock.systemUTC()), Clock.systemUTC());
    private final EventJson json = new EventJson();
    private List<String> lines;
    private ParsedLines parsed;

    @Setup
    public void makeLines() {
        Random random = new Random(42);
        String[] users = {"frank", "heidi", "peggy", "maria", "ivan.petrov"};
        lines = new ArrayList<>();
        for (int i = 0; i < GROUP; i++) {
            String target = random.nextBoolean() ? "www.wikipedia.org:80"
                    : "[2a00:1450:4001:" + Integer.toHexString(random.nextInt(0xffff)) + "::3c06]:443";
            lines.add(String.format("2025/01/15 10:20:30.%06d from %d.%d.%d.%d:%d accepted tcp:%s "
                            + "[VLESS_TCP_REALITY >> DIRECT] email: %d.%s", 123_000 + i * 300,
                    random.nextInt(223) + 1, random.nextInt(256), random.nextInt(256), random.nextInt(256),
                    random.nextInt(65_536), target, random.nextInt(1000), users[random.nextInt(users.length)]));
        }
        parsed = parser.parseAll(lines);
    }

    @Benchmark
    @OperationsPerInvocation(GROUP)
    public ParsedLines parse() {
        return parser.parseAll(lines);
    }

    @Benchmark
    @OperationsPerInvocation(GROUP)
    public List<byte[]> encode() {
        return json.encode(parsed);
    }

    @Benchmark
    @OperationsPerInvocation(GROUP)
    public List<byte[]> parseAndEncode() {
        return json.encode(parser.parseAll(lines));
    }
}
