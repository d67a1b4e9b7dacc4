package io.marzban.iplimiter.agent.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** LOG_TIMEZONE=auto learns the zone of Xray's stamps from lines read live, and an explicit zone is checked. */
class LogZoneTest {

    private static final DateTimeFormatter XRAY = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS");
    private static final ZoneOffset TEHRAN = ZoneOffset.of("+03:30");
    private static final ZoneOffset NEW_YORK = ZoneOffset.of("-05:00");

    /** The true time and System.nanoTime of the test's world; each step moves both a second on. */
    private Instant now = Instant.parse("2026-12-07T21:00:00.250Z");
    private long nanos = TimeUnit.DAYS.toNanos(3);

    @Test
    void learnsAZoneEastOfUtcFromLinesReadLiveAndDatesEventsTruly() {
        LogZone zone = new LogZone(null, () -> now, () -> nanos);
        assertEquals(ZoneOffset.UTC, zone.current(), "UTC until learned");
        assertTrue(zone.describe().contains("UTC until"), zone.describe());
        readLive(zone, TEHRAN);
        assertEquals(TEHRAN, zone.current());
        assertEquals("auto: UTC+03:30, learned from lines read live", zone.describe());
        assertTrueTime(zone, TEHRAN);
        assertNull(zone.problem());
    }

    @Test
    void learnsAZoneWestOfUtc() {
        LogZone zone = new LogZone(null, () -> now, () -> nanos);
        readLive(zone, NEW_YORK);
        assertEquals(NEW_YORK, zone.current());
        assertTrueTime(zone, NEW_YORK);
    }

    @Test
    void followsAZoneThatChangesMidStreamOnceSeveralLinesAgree() {
        LogZone zone = new LogZone(null, () -> now, () -> nanos);
        readLive(zone, TEHRAN);
        ZoneOffset summer = ZoneOffset.of("+04:30");
        readLive(zone, summer); // one line is not yet a change
        readLive(zone, TEHRAN);
        assertEquals(TEHRAN, zone.current());
        for (int sample = 1; sample < LogZone.AGREEING_SAMPLES; sample++) {
            readLive(zone, summer);
            assertEquals(TEHRAN, zone.current(), "after " + sample + " samples");
        }
        readLive(zone, summer);
        assertEquals(summer, zone.current());
        assertTrueTime(zone, summer);
    }

    @Test
    void linesCaughtUpOnTeachNothing() {
        LogZone zone = new LogZone(null, () -> now, () -> nanos);
        step();
        // an old file read from the beginning, a backlog, the look back at start: when written is not known
        zone.sample(List.of(line(now, TEHRAN)), null);
        // read long after the tailer last found the file read to its end: maybe written long ago
        zone.sample(List.of(line(now, TEHRAN)), nanos - TimeUnit.SECONDS.toNanos(LogZone.LIVE_SECONDS + 1));
        // read live, but stamped long ago (a line copied in, a test's fixed date): no zone is that far off
        zone.sample(List.of(line(now.minus(Duration.ofDays(400)), ZoneOffset.UTC)), nanos - 1_000_000);
        assertEquals(ZoneOffset.UTC, zone.current());
        assertTrue(zone.describe().contains("UTC until"), zone.describe());
    }

    @Test
    void samplesOneLineASecondAtMost() {
        LogZone zone = new LogZone(null, () -> now, () -> nanos);
        readLive(zone, TEHRAN);
        for (int line = 0; line < 10; line++) {
            nanos += 10_000_000;
            now = now.plusMillis(10);
            zone.sample(List.of(line(now, NEW_YORK)), nanos - 1_000_000);
        }
        assertEquals(TEHRAN, zone.current(), "ten lines within a second are one sample");
    }

    @Test
    void anExplicitZoneThatLiveLinesContradictIsAProblemNamingTheOffsetSeen() {
        LogZone zone = new LogZone(ZoneId.of("UTC"), () -> now, () -> nanos); // as LOG_TIMEZONE=UTC reads
        for (int sample = 0; sample < LogZone.AGREEING_SAMPLES; sample++) {
            readLive(zone, TEHRAN);
        }
        assertEquals(ZoneId.of("UTC"), zone.current(), "an explicit zone is only checked");
        String problem = zone.problem();
        assertTrue(problem != null && problem.contains("LOG_TIMEZONE=UTC") && problem.contains("+03:30"), problem);
    }

    @Test
    void anExplicitZoneThatLiveLinesConfirmIsNoProblem() {
        ZoneId berlin = ZoneId.of("Europe/Berlin"); // +01:00 in December
        LogZone zone = new LogZone(berlin, () -> now, () -> nanos);
        for (int sample = 0; sample < LogZone.AGREEING_SAMPLES; sample++) {
            readLive(zone, ZoneOffset.of("+01:00"));
        }
        assertNull(zone.problem());
        assertEquals("Europe/Berlin (LOG_TIMEZONE)", zone.describe());
    }

    @Test
    void theLookBackAtStartNeverTakesAnOldLineForANewOneWhileTheZoneIsUnknown() {
        LogZone zone = new LogZone(null, () -> now, () -> nanos);
        AccessLineParser parser = new AccessLineParser("node-1", "Tehran 1", zone, Clock.systemUTC());
        Instant start = now;
        // written an hour before the start in +03:30: read as UTC it would seem 2.5 h after it
        assertEquals(false, parser.stampedSince(start).test(line(start.minus(Duration.ofHours(1)), TEHRAN)));
    }

    /** A second later, a line the tailer read live (it found the file read to its end 20 ms before). */
    private void readLive(LogZone zone, ZoneOffset xrayZone) {
        step();
        zone.sample(List.of(line(now.minusSeconds(5), xrayZone), line(now.minusMillis(5), xrayZone)),
                nanos - 20_000_000);
    }

    private void step() {
        now = now.plusSeconds(1);
        nanos += TimeUnit.SECONDS.toNanos(1);
    }

    private void assertTrueTime(LogZone zone, ZoneOffset xrayZone) {
        AccessLineParser parser = new AccessLineParser("node-1", "Tehran 1", zone, Clock.systemUTC());
        Instant written = now.plusMillis(300);
        ConnectionEvent event = (ConnectionEvent) parser.parse(line(written, xrayZone));
        assertEquals(written, event.timestamp());
    }

    private static String line(Instant at, ZoneOffset xrayZone) {
        return XRAY.format(at.atOffset(xrayZone)) + " from 198.51.100.7:4000 accepted tcp:example.com:443 "
                + "[in >> out] email: 7.maria";
    }
}
