package io.marzban.iplimiter.agent.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The line splitter on byte arrays: which lines, with which offsets, and where the next read starts. */
class LineSplitterTest {

    private record Line(String text, long start, long end) { }

    private final List<Line> lines = new ArrayList<>();

    private long split(LineSplitter splitter, String text, long base) throws InterruptedException {
        return split(splitter, text.getBytes(StandardCharsets.UTF_8), base);
    }

    private long split(LineSplitter splitter, byte[] bytes, long base) throws InterruptedException {
        return splitter.split(bytes, bytes.length, base, (text, start, end) -> lines.add(new Line(text, start, end)));
    }

    @Test
    void cutsAtNewlinesWithFileOffsetsAndLeavesTheHalfWrittenLineForTheNextRead() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 100);
        assertEquals(1_013, split(splitter, "first\nsecond\nhal", 1_000));
        assertEquals(List.of(new Line("first", 1_000, 1_006), new Line("second", 1_006, 1_013)), lines);
    }

    @Test
    void onlyTheFirstLengthBytesCount() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 100);
        byte[] buffer = "a\nb\nstale bytes of an earlier read\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(4, splitter.split(buffer, 4, 0, (text, start, end) -> lines.add(new Line(text, start, end))));
        assertEquals(List.of(new Line("a", 0, 2), new Line("b", 2, 4)), lines);
    }

    @Test
    void nulPaddingBeforeALineBelongsToNoLine() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 100);
        assertEquals(9, split(splitter, "\0\0\0\0line\n", 0));
        assertEquals(List.of(new Line("line", 4, 9)), lines);
    }

    @Test
    void aNulRunThatEndsTheBytesIsSkippedToo() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 100);
        assertEquals(5, split(splitter, "a\n\0\0\0", 0));
        assertEquals(List.of(new Line("a", 0, 2)), lines);
    }

    @Test
    void decodesUtf8AndPassesInvalidBytesThroughAsReplacements() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 100);
        byte[] bytes = {(byte) 0xC3, (byte) 0xA9, '\r', '\n', (byte) 0xFF, 'x', '\n'};
        assertEquals(7, split(splitter, bytes, 0));
        assertEquals(List.of(new Line("\u00e9\r", 0, 4), new Line("\uFFFDx", 4, 7)), lines);
    }

    @Test
    void skipsACompleteLineOverTheLimitAndKeepsOneExactlyAtIt() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 4);
        assertEquals(14, split(splitter, "12345\n1234\nok\n", 0));
        assertEquals(List.of(new Line("1234", 6, 11), new Line("ok", 11, 14)), lines);
        assertEquals(1, splitter.linesTooLong());
    }

    @Test
    void dropsAnOverLongLineAcrossReadsWithoutHoldingItThenGoesOn() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 4);
        assertEquals(10, split(splitter, "ok\n1234567", 0)); // more than the limit and no end yet: dropped so far
        assertTrue(splitter.inLongLine());
        assertEquals(19, split(splitter, "89012345\nn", 10)); // its end, then the start of the next line
        assertFalse(splitter.inLongLine());
        assertEquals(24, split(splitter, "next\n", 19));
        assertEquals(List.of(new Line("ok", 0, 3), new Line("next", 19, 24)), lines);
        assertEquals(1, splitter.linesTooLong());
    }

    @Test
    void restartingAtALineForgetsTheOverLongOne() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 4);
        split(splitter, "1234567", 0);
        splitter.restartAtLine();
        assertEquals(3, split(splitter, "ok\n", 0));
        assertEquals(List.of(new Line("ok", 0, 3)), lines);
    }

    @Test
    void stopsWhenTheLinesAreNotTaken() throws Exception {
        LineSplitter splitter = new LineSplitter("access.log", 100);
        byte[] bytes = "a\nb\nc\n".getBytes(StandardCharsets.UTF_8);
        long next = splitter.split(bytes, bytes.length, 0, (text, start, end) -> {
            lines.add(new Line(text, start, end));
            return !text.equals("b");
        });
        assertEquals(-1, next);
        assertEquals(List.of(new Line("a", 0, 2), new Line("b", 2, 4)), lines);
    }
}
