package io.marzban.iplimiter.bench;

import io.marzban.iplimiter.limiter.Limiter;
import io.marzban.iplimiter.limiter.LimiterSettings;
import io.marzban.iplimiter.main.HalfMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The real limiter, started as {@code bin/marzban-ip-limiter-node limiter} starts it, on a clock that
 * scripts/bench/verdict-bench.py moves: each line on standard input is the epoch milliseconds it is now, answered on
 * standard output by {@code BENCH-NOW <millis>} once set. So eight simulated minutes take seconds, and every check
 * sees exactly the time the simulator means.
 */
public final class SimulatedTimeLimiter {

    private SimulatedTimeLimiter() {
    }

    public static void main(String[] args) throws Exception {
        AtomicLong now = new AtomicLong(Long.parseLong(System.getenv("BENCH_START_MILLIS")));
        Thread driver = new Thread(() -> follow(now), "bench-clock");
        driver.setDaemon(true);
        driver.start();
        HalfMain.run(args, LimiterSettings::fromEnvironment, settings -> "limiter",
                settings -> Limiter.create(settings, new SteppedClock(now)));
    }

    private static void follow(AtomicLong now) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                now.set(Long.parseLong(line.trim()));
                System.out.println("BENCH-NOW " + now.get());
                System.out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class SteppedClock extends Clock {
        private final AtomicLong now;

        SteppedClock(AtomicLong now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public long millis() {
            return now.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now.get());
        }
    }
}
