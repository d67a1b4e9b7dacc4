package io.marzban.iplimiter.agent.parse;

import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The time zone of Xray's stamps, which are local wall time without a zone: the zone LOG_TIMEZONE names, or, with
 * {@code auto}, the UTC offset learned from lines read live (UTC until then).
 *
 * <p>A line read live was written moments ago, so its stamp minus the moment it is read is the offset, give or take
 * a few seconds; rounded to the quarter hour it is exact. A line is live when the tailer had found the file read to
 * its end at most {@value #LIVE_SECONDS} s before (so the line was written since): lines caught up on (an old file,
 * a backlog, the look back at start) never are. One line a second at most is sampled, the last of its group. The
 * first offset seen is taken at once (anything beats assuming UTC); a change (daylight saving, Xray restarted in
 * another zone) once {@value #AGREEING_SAMPLES} samples in a row agree on it. With an explicit zone the samples
 * only check it: one that disagrees by a quarter hour or more is a WARN (at most hourly) and {@link #problem()}.
 */
public final class LogZone {

    private static final Logger LOG = LoggerFactory.getLogger(LogZone.class);
    static final int LIVE_SECONDS = 5;
    static final int AGREEING_SAMPLES = 3;
    private static final long LIVE_NANOS = TimeUnit.SECONDS.toNanos(LIVE_SECONDS);
    private static final long SAMPLE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long WARN_EVERY_NANOS = TimeUnit.HOURS.toNanos(1);
    private static final int QUARTER_HOUR = 900;
    private static final int EARLIEST_OFFSET = -12 * 3600;
    private static final int LATEST_OFFSET = 14 * 3600;
    /** Farther from a quarter hour than this, a stamp was not written when it says: not a sample. */
    private static final int MAX_DRIFT_SECONDS = 60;

    /** LOG_TIMEZONE; null for auto. */
    private final ZoneId configured;
    private final InstantSource clock;
    /** System.nanoTime, the tailer's measure of when lines were written. */
    private final LongSupplier nanoTime;
    /** The zone stamps are converted from now. */
    private volatile ZoneId current;
    /** The offset live lines showed last (agreed on by enough samples); null until they showed one. */
    private volatile ZoneOffset seen;
    private ZoneOffset candidate;
    private int candidateSamples;
    private long lastSampleNanos;
    private long lastWarningNanos;
    private boolean warned;

    /** @param configured LOG_TIMEZONE, or null for auto */
    LogZone(ZoneId configured, InstantSource clock, LongSupplier nanoTime) {
        this.configured = configured;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.current = configured == null ? ZoneOffset.UTC : configured;
    }

    /** LOG_TIMEZONE=auto: the offset is learned from lines read live. */
    public static LogZone learned(InstantSource clock) {
        return new LogZone(null, clock, System::nanoTime);
    }

    /** LOG_TIMEZONE set to {@code zone}: live lines only check it. */
    public static LogZone fixed(ZoneId zone, InstantSource clock) {
        return new LogZone(zone, clock, System::nanoTime);
    }

    /** The zone stamps are converted from now. */
    public ZoneId current() {
        return current;
    }

    /**
     * The zone to tell lines written since a moment by: the one set or learned; while auto has learned none, the one
     * that dates a stamp earliest (+14:00), so that an unknown zone never passes an old line off as new.
     */
    ZoneId sureOfSince() {
        ZoneOffset shown = seen;
        return configured != null ? configured : shown != null ? shown : ZoneOffset.ofTotalSeconds(LATEST_OFFSET);
    }

    /**
     * A step of the route, before parsing: samples the last of {@code lines} if they were written after
     * {@code writtenAfterNanos} (System.nanoTime, null when not known) and that was a moment ago.
     */
    public void sample(List<String> lines, Long writtenAfterNanos) {
        long now = nanoTime.getAsLong();
        if (writtenAfterNanos == null || lines.isEmpty() || now - writtenAfterNanos > LIVE_NANOS
                || (lastSampleNanos != 0 && now - lastSampleNanos < SAMPLE_EVERY_NANOS)) {
            return;
        }
        long wallSecond = LogTimestamp.wallSecondAtStart(lines.get(lines.size() - 1));
        if (wallSecond == Long.MIN_VALUE) {
            return;
        }
        lastSampleNanos = now;
        long difference = wallSecond - clock.instant().getEpochSecond();
        long offset = Math.round(difference / (double) QUARTER_HOUR) * QUARTER_HOUR;
        if (offset < EARLIEST_OFFSET || offset > LATEST_OFFSET || Math.abs(difference - offset) > MAX_DRIFT_SECONDS) {
            return; // an old or made-up stamp, not a clock in some zone
        }
        observe(ZoneOffset.ofTotalSeconds((int) offset), now);
    }

    private void observe(ZoneOffset offset, long nowNanos) {
        if (offset.equals(candidate)) {
            candidateSamples++;
        } else {
            candidate = offset;
            candidateSamples = 1;
        }
        boolean firstWhileAuto = configured == null && seen == null;
        if (!offset.equals(seen) && (firstWhileAuto || candidateSamples >= AGREEING_SAMPLES)) {
            adopt(offset);
        }
        String problem = problem();
        if (problem != null && (!warned || nowNanos - lastWarningNanos >= WARN_EVERY_NANOS)) {
            warned = true;
            lastWarningNanos = nowNanos;
            LOG.warn(problem);
        }
    }

    private void adopt(ZoneOffset offset) {
        ZoneOffset before = seen;
        seen = offset;
        if (configured != null) {
            return;
        }
        current = offset;
        if (before == null) {
            LOG.info("Xray's access log is stamped at UTC{} (learned from lines read live, LOG_TIMEZONE=auto)",
                    text(offset));
        } else {
            LOG.info("Xray's access log is now stamped at UTC{}, no longer UTC{} (learned from lines read live)",
                    text(offset), text(before));
        }
    }

    /** Why the stamps are converted wrong: LOG_TIMEZONE disagrees with live lines; null when it does not. */
    public String problem() {
        ZoneOffset shown = seen;
        if (configured == null || shown == null) {
            return null;
        }
        int expected = configured.getRules().getOffset(clock.instant()).getTotalSeconds();
        if (Math.abs(shown.getTotalSeconds() - expected) < QUARTER_HOUR) {
            return null;
        }
        return "LOG_TIMEZONE=" + configured.getId() + " disagrees with Xray's access log: lines read live are stamped "
                + "at " + text(shown) + ", not " + text(ZoneOffset.ofTotalSeconds(expected)) + ", so every event is "
                + Math.abs(shown.getTotalSeconds() - expected) + " s off; unset LOG_TIMEZONE (auto) or set it to "
                + text(shown);
    }

    /** What /observe/health shows: the zone in use and where it comes from. */
    public String describe() {
        ZoneOffset shown = seen;
        if (configured != null) {
            return configured.getId() + " (LOG_TIMEZONE)";
        }
        return shown == null ? "auto: UTC until a line read live shows the offset"
                : "auto: UTC" + text(shown) + ", learned from lines read live";
    }

    /** {@code +03:30}, {@code -05:00}, {@code +00:00}: never {@code Z}. */
    static String text(ZoneOffset offset) {
        return offset.getTotalSeconds() == 0 ? "+00:00" : offset.getId();
    }
}
