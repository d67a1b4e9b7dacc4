package io.marzban.iplimiter.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** Writes to a log under test as Xray does: appending, creating it if it is gone. */
public final class LogFile {

    private LogFile() {
    }

    /** Appends the lines, each ended by {@code \n}. */
    public static void append(Path log, List<String> lines) throws IOException {
        append(log, String.join("\n", lines) + "\n");
    }

    public static void append(Path log, String text) throws IOException {
        append(log, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void append(Path log, byte[] bytes) throws IOException {
        Files.write(log, bytes, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
