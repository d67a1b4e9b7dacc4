package io.marzban.iplimiter.agent.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.agent.position.FilePosition;
import io.marzban.iplimiter.agent.position.PositionStore;
import io.marzban.iplimiter.support.Wait;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tailer on real files: what it hands over, in which order, with which positions. */
class FileTailerTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final List<FilePosition> positions = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> writtenAfterOfLines = Collections.synchronizedList(new ArrayList<>());
    private FileTailer tailer;
    private Thread thread;
    private MemoryStore store;
    /** Which lines count as written since the agent started (for startPosition end); none unless a test says. */
    private Predicate<String> writtenSinceStart = line -> false;

    /** What Redis would hold: the committed position, and the start position the tailer records. */
    private static final class MemoryStore implements PositionStore {
        private volatile FilePosition position;

        MemoryStore(FilePosition position) {
            this.position = position;
        }

        @Override
        public Optional<FilePosition> load(String path) {
            return Optional.ofNullable(position);
        }

        @Override
        public void save(FilePosition start) {
            position = start;
        }
    }

    @AfterEach
    void stopTailer() throws InterruptedException {
        stop();
    }

    @Test
    void handsOverOnlyCompleteLinesWithTheirEndOffsets() throws Exception {
        Path log = write("access.log", "first\nsecond-half");
        start(log, "beginning", null);
        awaitLines(1);
        append(log, "-written\nthird\n");
        awaitLines(3);
        assertEquals(List.of("first", "second-half-written", "third"), lines);
        assertEquals(List.of(6L, 26L, 32L), positions.stream().map(FilePosition::offset).toList());
    }

    @Test
    void handsOverGroupsOfAtMostTheGroupSizeEachEndingAtItsLastLine() throws Exception {
        Path log = write("access.log", "a1\na2\na3\na4\na5\na6\na7\nhalf");
        List<List<String>> groups = Collections.synchronizedList(new ArrayList<>());
        start(log, "beginning", null, 65_536, 3, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            groups.add(group);
            record(group, end, caughtUp, writtenAfter);
        });
        awaitLines(7);
        append(log, "-done\nb\n");
        awaitLines(9);
        // the file's end cuts a group short: nothing waits for more lines once all there is has been read
        assertEquals(List.of(List.of("a1", "a2", "a3"), List.of("a4", "a5", "a6"), List.of("a7"),
                List.of("half-done", "b")), groups);
        assertEquals(List.of(9L, 18L, 21L, 33L), positions.stream().map(FilePosition::offset).toList());
    }

    @Test
    void flagsTheLastGroupOfAReadThatBeganMoreThanABufferBehindAsCaughtUp() throws Exception {
        Path log = write("access.log", hundredByteLines("backlog", 0, 1_500)); // 150,000 bytes: more than 128 KiB
        List<Boolean> flags = Collections.synchronizedList(new ArrayList<>());
        start(log, "beginning", null, 65_536, 1_000, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            flags.add(caughtUp);
            record(group, end, caughtUp, writtenAfter);
        });
        awaitLines(1_500);
        append(log, "b1\nb2\nb3\n"); // a few lines: the tailer was not behind
        awaitLines(1_503);
        assertEquals(List.of(false, true, false), flags);
    }

    @Test
    void saysLinesWereWrittenAfterALookOnlyWhenAllBeforeThemWasReadThen() throws Exception {
        Path log = write("access.log", "old1\nold2\n");
        start(log, "beginning", null);
        awaitLines(2);
        append(log, "new\n");
        long afterAppend = System.nanoTime();
        awaitLines(3);
        // the file's first read catches up: when its lines were written is not known
        assertEquals(List.of(0L, 0L), writtenAfterOfLines.subList(0, 2));
        // a later line was not there when the tailer last found the file read to its end
        long writtenAfter = writtenAfterOfLines.get(2);
        assertTrue(writtenAfter != 0 && writtenAfter - afterAppend < 0, "written after " + writtenAfter);
    }

    @Test
    void startPositionEndLooksBackOnlyOverTheLastBufferAndStartsAtALineInIt() throws Exception {
        // 4 + 150,000 bytes, all "new": the look back stops at the 128 KiB window, at the first line that
        // begins inside it (the line cut by the window's start may begin before it)
        Path log = write("access.log", "old\n" + hundredByteLines("new", 0, 1_500));
        writtenSinceStart = line -> line.startsWith("new");
        long windowStart = Files.size(log) - 128 * 1024;
        int first = (int) ((windowStart + 1 - 4 + 99) / 100); // the first line whose start is after windowStart
        start(log, "end", null);
        awaitLines(1_500 - first);
        assertEquals(hundredByteLines("new", first, 1).strip(), lines.get(0));
        assertEquals(1_500 - first, lines.size());
    }

    /** {@code count} lines of 99 characters and a \n, numbered from {@code from}. */
    private static String hundredByteLines(String prefix, int from, int count) {
        StringBuilder text = new StringBuilder();
        for (int i = from; i < from + count; i++) {
            String head = prefix + "-" + i + "-";
            text.append(head).append("x".repeat(99 - head.length())).append('\n');
        }
        return text.toString();
    }

    @Test
    void offersAWholeGroupAgainWhenTheSinkFails() throws Exception {
        Path log = write("access.log", "one\ntwo\nthree\nfour\n");
        AtomicInteger calls = new AtomicInteger();
        start(log, "beginning", null, 65_536, 2, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            if (calls.incrementAndGet() == 2) {
                throw new IllegalStateException("writer is stopping");
            }
            record(group, end, caughtUp, writtenAfter);
        });
        awaitLines(4);
        assertEquals(List.of("one", "two", "three", "four"), lines);
        assertEquals(List.of(8L, 19L), positions.stream().map(FilePosition::offset).toList());
    }

    @Test
    void startsAtTheLineBeingWrittenWhenStartPositionIsEnd() throws Exception {
        Path log = write("access.log", "old-1\nold-2\nbeing-wri");
        start(log, "end", null);
        awaitFollowing();
        append(log, "tten\nnew\n");
        awaitLines(2);
        assertEquals(List.of("being-written", "new"), lines);
    }

    @Test
    void startPositionEndKeepsTheLastLinesWrittenSinceTheStart() throws Exception {
        // "new" lines were logged while the agent was starting; the older "new-0" is history, cut off by "old-1"
        Path log = write("access.log", "new-0\nold-1\nnew-2\nnew-3\nbeing-wri");
        writtenSinceStart = line -> line.startsWith("new");
        start(log, "end", null);
        awaitLines(2);
        append(log, "tten\n");
        awaitLines(3);
        assertEquals(List.of("new-2", "new-3", "being-written"), lines);
    }

    @Test
    void startPositionEndReadsAWholeFileWrittenSinceTheStart() throws Exception {
        Path log = write("access.log", "new-1\nnew-2\n");
        writtenSinceStart = line -> line.startsWith("new");
        start(log, "end", null);
        awaitLines(2);
        assertEquals(List.of("new-1", "new-2"), lines);
    }

    @Test
    void resumesFromTheStoredPosition() throws Exception {
        Path log = write("access.log", "a\nb\n");
        start(log, "beginning", null);
        awaitLines(2);
        FilePosition afterA = positions.get(0);
        stop();
        append(log, "c\n");
        lines.clear();
        start(log, "end", afterA);
        awaitLines(2);
        assertEquals(List.of("b", "c"), lines);
    }

    @Test
    void readsTheCurrentFileFromItsStartWhenTheStoredPositionIsOfAnotherFile() throws Exception {
        Path log = write("access.log", "one\ntwo\n");
        start(log, "beginning", null);
        awaitLines(2);
        FilePosition old = positions.get(1);
        stop();
        Files.delete(log);
        write("access.log", "three\n");
        lines.clear();
        start(log, "end", old);
        awaitLines(1);
        assertEquals(List.of("three"), lines);
    }

    @Test
    void continuesFromTheEndWhenTheStoredOffsetIsPastIt() throws Exception {
        Path log = write("access.log", "one\ntwo\n");
        start(log, "beginning", null);
        awaitLines(2);
        FilePosition end = positions.get(1);
        stop();
        lines.clear();
        start(log, "beginning", new FilePosition(end.path(), end.file(), end.offset() + 1000));
        awaitFollowing();
        append(log, "three\n");
        awaitLines(1);
        assertEquals(List.of("three"), lines);
    }

    @Test
    void waitsForAFileThatDoesNotExistYetAndReadsAllOfIt() throws Exception {
        Path log = dir.resolve("access.log");
        start(log, "end", null);
        Thread.sleep(100);
        write("access.log", "early\n");
        append(log, "later\n");
        awaitLines(2);
        assertEquals(List.of("early", "later"), lines);
    }

    @Test
    void readsAFileTruncatedInPlaceAgainFromItsStart() throws Exception {
        Path log = write("access.log", "before-1\nbefore-2\n");
        start(log, "beginning", null);
        awaitLines(2);
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.setLength(0); // what logrotate's copytruncate does
        }
        append(log, "after-1\n");
        awaitLines(3);
        append(log, "after-2\n");
        awaitLines(4);
        assertEquals(List.of("before-1", "before-2", "after-1", "after-2"), lines);
    }

    @Test
    void noticesATruncationThatGrewPastTheOldOffsetBetweenTwoLooks() throws Exception {
        Path log = write("access.log", "short-1\n");
        start(log, "beginning", null);
        awaitLines(1);
        stop(); // freeze the tailer so the file can be truncated and regrown unseen
        FilePosition seen = positions.get(0);
        Files.writeString(log, "rewritten-line-that-is-longer\n");
        lines.clear();
        start(log, "end", seen);
        awaitLines(1);
        assertEquals(List.of("rewritten-line-that-is-longer"), lines);
    }

    @Test
    void skipsNulPaddingBeforeALine() throws Exception {
        Path log = write("access.log", "");
        start(log, "beginning", null);
        append(log, "\0\0\0\0real line\n");
        awaitLines(1);
        assertEquals(List.of("real line"), lines);
    }

    @Test
    void drainsARenamedFileIncludingLateWritesBeforeReadingTheNewOne() throws Exception {
        Path log = write("access.log", "old-1\n");
        start(log, "beginning", null);
        awaitLines(1);
        Path rotated = dir.resolve("access.log.1");
        Files.move(log, rotated);
        write("access.log", "new-1\n");
        append(rotated, "old-2\n"); // Xray keeps writing to the renamed file for a while
        awaitLines(3);
        append(log, "new-2\n");
        awaitLines(4);
        assertEquals(List.of("old-1", "old-2", "new-1", "new-2"), lines);
    }

    @Test
    void leavesARotatedFileWhoseLastLineNeverEndsOnceItIsQuiet() throws Exception {
        Path log = write("access.log", "old-1\nold-cut-off");
        start(log, "beginning", null);
        awaitLines(1);
        Files.move(log, dir.resolve("access.log.1"));
        write("access.log", "new-1\n");
        awaitLines(2);
        assertEquals(List.of("old-1", "new-1"), lines);
    }

    @Test
    void drainsAFileRenamedWhileStoppedFromItsStoredPositionThenReadsTheNewOne() throws Exception {
        Path log = write("access.log", "a\nb\n");
        FilePosition afterA = readFirstLineThenStop(log);
        append(log, "c\n");
        Files.move(log, dir.resolve("access.log.1"));
        write("access.log", "d\n");
        start(log, "end", afterA);
        awaitLines(3);
        assertEquals(List.of("b", "c", "d"), lines);
    }

    @Test
    void drainsTheCopyOfAFileCopytruncatedWhileStoppedThenReadsTheTruncatedOne() throws Exception {
        Path log = write("access.log", "a\nb\n");
        FilePosition afterA = readFirstLineThenStop(log);
        Files.copy(log, dir.resolve("access.log.1")); // logrotate copytruncate: copy, then truncate in place
        Files.writeString(log, "");
        append(log, "c\n");
        start(log, "end", afterA);
        awaitLines(2);
        assertEquals(List.of("b", "c"), lines);
    }

    @Test
    void readsTheBacklogFromTheCopyWhenTheFileIsTruncatedWhileFarBehind() throws Exception {
        List<String> backlog = IntStream.range(0, 3000).mapToObj(i -> "line-" + i + "-" + "x".repeat(40)).toList();
        Path log = write("access.log", String.join("\n", backlog) + "\n");
        CountDownLatch released = new CountDownLatch(1);
        start(log, "beginning", null, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            released.await(); // the shipper is behind: the rest of the file waits unread
            record(group, end, caughtUp, writtenAfter);
        });
        Thread.sleep(200);
        Files.copy(log, dir.resolve("access.log.1"));
        Files.writeString(log, "after\n");
        released.countDown();
        awaitLines(3001);
        List<String> expected = new ArrayList<>(backlog);
        expected.add("after");
        assertEquals(expected, lines);
    }

    @Test
    void aTruncationThatGrowsPastTheOffsetWhileTheSinkIsBlockedIsNotReadAsTheOldFile() throws Exception {
        List<String> backlog = IntStream.range(0, 3000).mapToObj(i -> "old-" + i + "-" + "x".repeat(40)).toList();
        List<String> fresh = IntStream.range(0, 6000).mapToObj(i -> "new-" + i + "-" + "y".repeat(40)).toList();
        Path log = write("access.log", String.join("\n", backlog) + "\n");
        CountDownLatch released = new CountDownLatch(1);
        start(log, "beginning", null, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            released.await();
            record(group, end, caughtUp, writtenAfter);
        });
        Thread.sleep(200);
        Files.copy(log, dir.resolve("access.log.1"));
        Files.writeString(log, String.join("\n", fresh) + "\n"); // truncated, then more than before
        released.countDown();
        awaitLines(9000);
        List<String> expected = new ArrayList<>(backlog);
        expected.addAll(fresh);
        assertEquals(expected, lines);
    }

    @Test
    void readsTheMiddleFileEvenWhenTheFinishedOneWasDeletedMeanwhile() throws Exception {
        Path log = write("access.log", "a-1\na-2\n");
        CountDownLatch released = new CountDownLatch(1);
        start(log, "beginning", null, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            released.await(); // behind while two rotations happen
            record(group, end, caughtUp, writtenAfter);
        });
        Thread.sleep(200);
        Path first = dir.resolve("access.log.2");
        Files.move(log, first);
        Thread.sleep(20);
        write("access.log", "b-1\n");
        Files.move(log, dir.resolve("access.log.1"));
        Thread.sleep(20);
        write("access.log", "c-1\n");
        Files.delete(first); // e.g. compressed away while the tailer still had it open
        released.countDown();
        awaitLines(4);
        assertEquals(List.of("a-1", "a-2", "b-1", "c-1"), lines);
    }

    @Test
    void saysWhatIsLostWhenTheRotatedFileWasCompressedWhileStopped() throws Exception {
        Path log = write("access.log", "a\nb\n");
        FilePosition afterA = readFirstLineThenStop(log);
        try (OutputStream gzip = new GZIPOutputStream(Files.newOutputStream(dir.resolve("access.log.1.gz")))) {
            gzip.write(Files.readAllBytes(log));
        }
        Files.delete(log);
        write("access.log", "c\n");
        start(log, "end", afterA);
        awaitLines(1);
        assertEquals(List.of("c"), lines); // "b" is only in the compressed file: reported lost, not read
    }

    @Test
    void followsAFileDeletedAndCreatedAgain() throws Exception {
        Path log = write("access.log", "first\n");
        start(log, "beginning", null);
        awaitLines(1);
        Files.delete(log);
        Thread.sleep(50);
        write("access.log", "second\n");
        awaitLines(2);
        assertEquals(List.of("first", "second"), lines);
    }

    @Test
    void skipsALineLongerThanTheLimitWithoutLosingTheNextOne() throws Exception {
        Path log = write("access.log", "");
        start(log, "beginning", null);
        append(log, "x".repeat(300_000));
        append(log, "x".repeat(300_000) + "\nafter\n");
        awaitLines(1);
        assertEquals(List.of("after"), lines);
        assertEquals(1, tailer.linesTooLong());
    }

    @Test
    void skipsACompleteLineLongerThanTheLimitAndKeepsOneExactlyAtIt() throws Exception {
        Path log = write("access.log", "x".repeat(1000) + "\n" + "y".repeat(256) + "\n");
        start(log, "beginning", null, 256, this::record);
        awaitLines(1);
        assertEquals(List.of("y".repeat(256)), lines);
        assertEquals(1, tailer.linesTooLong());
    }

    @Test
    void recordsWhereItStartsSoThatACrashBeforeTheFirstBatchStartsThereAgain() throws Exception {
        Path log = write("access.log", "old-1\nold-2\n");
        start(log, "end", null);
        awaitFollowing();
        assertEquals(12, store.load(log.toString()).orElseThrow().offset());
        append(log, "new-1\n");
        awaitLines(1);
        FilePosition recorded = store.load(log.toString()).orElseThrow();
        stop(); // crashed before any batch was committed: the store still holds the start
        lines.clear();
        start(log, "end", recorded);
        append(log, "new-2\n");
        awaitLines(2);
        assertEquals(List.of("new-1", "new-2"), lines);
    }

    @Test
    void passesCarriageReturnsAndInvalidUtf8ThroughForTheParserToJudge() throws Exception {
        Path log = write("access.log", "");
        start(log, "beginning", null);
        Files.write(log, new byte[] {'a', '\r', '\n', (byte) 0xC3, (byte) 0x28, '\n'}, StandardOpenOption.APPEND);
        awaitLines(2);
        assertEquals(List.of("a\r", "\uFFFD("), lines);
    }

    @Test
    void offersALineAgainWhenTheSinkFails() throws Exception {
        Path log = write("access.log", "one\ntwo\n");
        AtomicInteger calls = new AtomicInteger();
        start(log, "beginning", null, (List<String> group, FilePosition end, boolean caughtUp,
                long writtenAfter) -> {
            if (calls.incrementAndGet() == 2) {
                throw new IllegalStateException("writer is stopping");
            }
            record(group, end, caughtUp, writtenAfter);
        });
        awaitLines(2);
        assertEquals(List.of("one", "two"), lines);
        assertTrue(calls.get() >= 3);
    }

    // ---- helpers ----

    /** Reads the file's first line, stops, and returns the position after it (as if committed). */
    private FilePosition readFirstLineThenStop(Path log) throws InterruptedException {
        start(log, "beginning", null);
        awaitLines(1);
        FilePosition afterFirst = positions.get(0);
        stop();
        lines.clear();
        positions.clear();
        return afterFirst;
    }

    private void start(Path log, String startPosition, FilePosition stored) {
        start(log, startPosition, stored, this::record);
    }

    private void start(Path log, String startPosition, FilePosition stored, FileTailer.LineSink sink) {
        start(log, startPosition, stored, 65_536, sink);
    }

    private void start(Path log, String startPosition, FilePosition stored, int maxLineBytes, FileTailer.LineSink sink) {
        start(log, startPosition, stored, maxLineBytes, 1, sink);
    }

    private void start(Path log, String startPosition, FilePosition stored, int maxLineBytes, int linesPerGroup,
                       FileTailer.LineSink sink) {
        store = new MemoryStore(stored);
        tailer = new FileTailer(new TailOptions(log, StartPosition.valueOf(startPosition.toUpperCase(Locale.ROOT)),
                writtenSinceStart, maxLineBytes, linesPerGroup, 10, 0, 300, null), store, sink);
        thread = new Thread(tailer, "tailer-under-test");
        thread.start();
    }

    private void awaitFollowing() throws InterruptedException {
        Wait.until("the tailer follows the file", LIMIT, tailer::isFollowing);
    }

    private void stop() throws InterruptedException {
        if (tailer != null) {
            tailer.stop();
            thread.join();
            tailer = null;
        }
    }

    /** With groups of one line (as these tests use), each position is the end of its line. */
    private void record(List<String> group, FilePosition end, boolean caughtUp, long writtenAfter) {
        lines.addAll(group);
        positions.add(end);
        writtenAfterOfLines.addAll(java.util.Collections.nCopies(group.size(), writtenAfter));
    }

    private void awaitLines(int count) throws InterruptedException {
        Wait.until(count + " lines (have " + lines + ")", LIMIT, () -> lines.size() >= count);
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static void append(Path file, String text) throws IOException {
        Files.write(file, text.getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
    }
}
