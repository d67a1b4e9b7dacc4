package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The tree shows the two halves: neither imports the other, and the shared floor imports neither. */
class ArchitectureTest {

    private static final Path MAIN = Path.of("src/main/java/io/marzban/iplimiter");

    @Test
    void theAgentImportsNothingOfTheLimiter() throws IOException {
        assertEquals(List.of(), importing("agent", "io.marzban.iplimiter.limiter"));
    }

    @Test
    void theLimiterImportsNothingOfTheAgent() throws IOException {
        assertEquals(List.of(), importing("limiter", "io.marzban.iplimiter.agent"));
    }

    @Test
    void theSharedFloorImportsNeitherHalf() throws IOException {
        for (String floor : List.of("config", "redis", "management", "main")) {
            assertEquals(List.of(), importing(floor, "io.marzban.iplimiter.agent"));
            assertEquals(List.of(), importing(floor, "io.marzban.iplimiter.limiter"));
            assertEquals(List.of(), importing(floor, "io.marzban.iplimiter.demo"));
        }
    }

    @Test
    void noCodeNamesAKeyPrefixThatWasNeverReleased() throws IOException {
        assertEquals(List.of(), containing(MAIN, "marzban_ip_limiter:"));
        assertEquals(List.of(), containing(Path.of("scripts"), "marzban_ip_limiter:"));
        assertEquals(List.of(), containing(Path.of("routes"), "marzban_ip_limiter:"));
    }

    private static List<String> importing(String pkg, String forbidden) throws IOException {
        return containing(MAIN.resolve(pkg), "import " + forbidden + ".");
    }

    private static List<String> containing(Path dir, String text) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(file -> !file.toString().contains("__pycache__"))
                    .filter(file -> {
                        try {
                            return Files.readString(file).contains(text);
                        } catch (IOException e) {
                            return false; // not text
                        }
                    })
                    .map(Path::toString).sorted().toList();
        }
    }
}
