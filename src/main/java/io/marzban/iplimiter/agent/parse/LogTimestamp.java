package io.marzban.iplimiter.agent.parse;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.Year;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.Supplier;

/**
 * The {@code yyyy/MM/dd HH:mm:ss[.fraction]} prefix of a log line, written in the writing process's local time.
 *
 * @param epochSecond the whole second, converted from the log's time zone
 * @param nanos       the fraction, truncated to microseconds
 * @param end         index of the space that follows the timestamp
 */
record LogTimestamp(long epochSecond, int nanos, int end) {

    private static final int SECOND_END = "yyyy/MM/dd HH:mm:ss".length();
    private static final int MAX_FRACTION_DIGITS = 9;
    private static final int NANOS_PER_MICRO = 1_000;
    /** Events are shipped as non-negative epoch seconds; an earlier year can only be corruption. */
    private static final int MIN_YEAR = 1970;

    Instant instant() {
        return Instant.ofEpochSecond(epochSecond, nanos);
    }

    /**
     * Reads the timestamps of one log. Consecutive lines mostly share their whole second, so the last second read
     * is kept with its conversion: checking and converting date and time is most of the cost of a timestamp.
     * Safe to share between threads: the kept second is immutable and replaced as a whole.
     */
    static final class Reader {

        /** A second's text, converted in {@code zone}: a conversion in another zone than the current is redone. */
        private record Second(String text, ZoneId zone, long epochSecond) {
        }

        private final Supplier<ZoneId> zone;
        private volatile Second last;

        /** @param zone the zone the stamps are written in now (it may change while the log is read) */
        Reader(Supplier<ZoneId> zone) {
            this.zone = zone;
        }

        /** The timestamp at the start of {@code text}; null unless it is valid and followed by a space. */
        LogTimestamp parseAtStart(String text) {
            if (text.length() <= SECOND_END) {
                return null;
            }
            Second second = last;
            ZoneId current = zone.get();
            if (second == null || second.zone != current || !text.regionMatches(0, second.text, 0, SECOND_END)) {
                LocalDateTime local = wholeSecond(text);
                if (local == null) {
                    return null;
                }
                long epochSecond = local.atZone(current).toEpochSecond();
                if (epochSecond < 0) {
                    return null; // 1970 east of UTC: events are shipped as non-negative epoch seconds
                }
                second = new Second(text.substring(0, SECOND_END), current, epochSecond);
                last = second;
            }
            int end = SECOND_END;
            int nanos = 0;
            if (text.charAt(end) == '.') {
                int fractionStart = end + 1;
                end = fractionStart;
                int scale = 100_000_000; // place value of the next fraction digit, in nanoseconds
                while (end < text.length() && isDigit(text.charAt(end))) {
                    if (end - fractionStart == MAX_FRACTION_DIGITS) {
                        return null;
                    }
                    nanos += (text.charAt(end) - '0') * scale;
                    scale /= 10;
                    end++;
                }
                if (end == fractionStart) {
                    return null;
                }
            }
            if (end == text.length() || text.charAt(end) != ' ') {
                return null;
            }
            return new LogTimestamp(second.epochSecond, nanos - nanos % NANOS_PER_MICRO, end);
        }
    }

    /**
     * The wall time at the start of {@code text} as if it were UTC, in epoch seconds (whole seconds: the fraction is
     * not read); {@link Long#MIN_VALUE} unless the text starts with a valid date and time.
     */
    static long wallSecondAtStart(String text) {
        LocalDateTime local = text.length() <= SECOND_END ? null : wholeSecond(text);
        return local == null ? Long.MIN_VALUE : local.toEpochSecond(ZoneOffset.UTC);
    }

    /** The valid date and time in {@code text[0, 19)}, or null. */
    private static LocalDateTime wholeSecond(String text) {
        if (!hasSeparators(text)) {
            return null;
        }
        int year = number(text, 0, 4);
        int month = number(text, 5, 2);
        int day = number(text, 8, 2);
        int hour = number(text, 11, 2);
        int minute = number(text, 14, 2);
        int second = number(text, 17, 2);
        // number() gives -1 for a non-digit, which every range check below rejects
        if (year < MIN_YEAR || month < 1 || month > 12 || hour < 0 || hour > 23
                || minute < 0 || minute > 59 || second < 0 || second > 59
                || day < 1 || day > Month.of(month).length(Year.isLeap(year))) {
            return null;
        }
        return LocalDateTime.of(year, month, day, hour, minute, second);
    }

    private static boolean hasSeparators(String text) {
        return text.charAt(4) == '/' && text.charAt(7) == '/' && text.charAt(10) == ' '
                && text.charAt(13) == ':' && text.charAt(16) == ':';
    }

    /** The decimal number in {@code text[from, from + digits)}, or -1 if any character is not an ASCII digit. */
    private static int number(String text, int from, int digits) {
        int value = 0;
        for (int i = from; i < from + digits; i++) {
            char c = text.charAt(i);
            if (!isDigit(c)) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
