package io.marzban.iplimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marzban.iplimiter.agent.AgentSettings;
import io.marzban.iplimiter.limiter.LimiterSettings;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documents as a reader meets them: README a front door, every relative link leading somewhere, and each
 * default written once for people (the settings tables) and once in the .env examples, both as the code has it.
 */
class DocsTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$", Pattern.MULTILINE);
    /** A settings table row: | `NAME` (or [`NAME`](#anchor)) | default | ... */
    private static final Pattern ROW = Pattern.compile("^\\| \\[?`([A-Z_0-9]+)`(?:\\]\\([^)]*\\))? \\| ([^|]+) \\|",
            Pattern.MULTILINE);
    private static final Pattern EXAMPLE = Pattern.compile("^#? ?([A-Z][A-Z_0-9]+)=(.*)$", Pattern.MULTILINE);

    @Test
    void theReadmeIsAFrontDoorWithThePictureOnItsFirstScreen() throws IOException {
        List<String> readme = Files.readAllLines(ROOT.resolve("README.md"));
        assertTrue(readme.size() <= 200, "README.md has " + readme.size() + " lines");
        String firstScreen = String.join("\n", readme.subList(0, 40));
        assertTrue(firstScreen.contains("-> agent") && firstScreen.contains("limiter:"), "the two halves' picture");
    }

    @Test
    void everyRelativeLinkInTheReadmeAndDocsResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        for (Path document : documents()) {
            Matcher link = LINK.matcher(Files.readString(document));
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue; // http:, https:, mailto:
                }
                int hash = target.indexOf('#');
                Path file = hash == 0 ? document
                        : document.getParent().resolve(hash < 0 ? target : target.substring(0, hash)).normalize();
                if (!Files.exists(file)) {
                    broken.add(ROOT.relativize(document) + ": " + target + " (no such file)");
                } else if (hash >= 0 && !anchors(file).contains(target.substring(hash + 1))) {
                    broken.add(ROOT.relativize(document) + ": " + target + " (no such heading)");
                }
            }
        }
        assertEquals(List.of(), broken);
    }

    @Test
    void theAgentsDefaultsAreWrittenOnceAsTheCodeHasThem() throws IOException {
        Map<String, String> base = Map.of("NODE_ID", "node-1", "CENTRAL_REDIS_URL", "redis://127.0.0.1:6379/0");
        checkDefaults("docs/CONFIGURATION.md", "## Summary", "config/.env.example", base,
                AgentSettings::fromEnvironment);
    }

    @Test
    void theLimitersDefaultsAreWrittenOnceAsTheCodeHasThem() throws IOException {
        Map<String, String> base = Map.of("CENTRAL_REDIS_URL", "redis://127.0.0.1:6379/0");
        checkDefaults("docs/LIMITER.md", "## Settings", "config/limiter.env.example", base,
                LimiterSettings::fromEnvironment);
    }

    /**
     * Each variable of the document's settings table whose default is a value: setting it to that value changes
     * nothing, and the .env example shows that same value; and the example names every variable of the table.
     */
    private static void checkDefaults(String document, String section, String example, Map<String, String> base,
            Function<Map<String, String>, Object> read) throws IOException {
        Map<String, String> documented = defaults(document, section);
        Map<String, String> examples = new HashMap<>();
        Matcher line = EXAMPLE.matcher(Files.readString(ROOT.resolve(example)));
        while (line.find()) {
            examples.put(line.group(1), line.group(2).replaceAll("^\"|\"$", ""));
        }
        Object defaults = read.apply(base);
        List<String> wrong = new ArrayList<>();
        documented.forEach((variable, text) -> {
            if (!examples.containsKey(variable)) {
                wrong.add(variable + " is not in " + example);
            }
            String value = firstCode(text);
            if (value == null || base.containsKey(variable)) {
                return; // required, unset, or a default described in words
            }
            Map<String, String> env = new HashMap<>(base);
            env.put(variable, value);
            if (!sameSettings(read.apply(env), defaults)) {
                wrong.add(variable + ": " + document + " says the default is " + value + "; the code's differs");
            }
            if (examples.containsKey(variable) && !examples.get(variable).equals(value)) {
                wrong.add(variable + ": " + example + " shows " + examples.get(variable) + ", " + document + " " + value);
            }
        });
        assertEquals(List.of(), wrong);
    }

    /** Record components equal, or (for a value without equals, such as the user limits) equal as text. */
    private static boolean sameSettings(Object a, Object b) {
        for (RecordComponent component : a.getClass().getRecordComponents()) {
            try {
                Object x = component.getAccessor().invoke(a);
                Object y = component.getAccessor().invoke(b);
                if (!Objects.equals(x, y) && !(x != null && y != null && x.toString().equals(y.toString()))) {
                    return false;
                }
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        return true;
    }

    /** The settings table's rows under {@code section}: variable → its default cell. */
    private static Map<String, String> defaults(String document, String section) throws IOException {
        String text = Files.readString(ROOT.resolve(document));
        int start = text.indexOf("\n" + section + "\n");
        int end = text.indexOf("\n## ", start + 1);
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher row = ROW.matcher(text.substring(start, end < 0 ? text.length() : end));
        while (row.find()) {
            rows.put(row.group(1), row.group(2).trim());
        }
        assertTrue(rows.size() > 10, document + " " + section + " has a settings table");
        return rows;
    }

    /** The cell's value when it starts with one in backticks ({@code `50`}), else null. */
    private static String firstCode(String cell) {
        Matcher code = Pattern.compile("^`([^`]+)`").matcher(cell);
        return code.find() ? code.group(1) : null;
    }

    private static List<Path> documents() throws IOException {
        List<Path> documents = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("CHANGELOG.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(path -> path.toString().endsWith(".md")).sorted().forEach(documents::add);
        }
        return documents;
    }

    /** GitHub's anchors for a Markdown file's headings (a number appended to repeats). */
    private static Set<String> anchors(Path file) throws IOException {
        Set<String> anchors = new TreeSet<>();
        if (!file.toString().endsWith(".md")) {
            return anchors;
        }
        String text = Files.readString(file).replaceAll("(?s)```.*?```", "");
        Map<String, Integer> seen = new HashMap<>();
        Matcher heading = HEADING.matcher(text);
        while (heading.find()) {
            String slug = heading.group(1).trim().toLowerCase(Locale.ROOT)
                    .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int repeats = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(repeats == 0 ? slug : slug + "-" + repeats);
        }
        return anchors;
    }
}
