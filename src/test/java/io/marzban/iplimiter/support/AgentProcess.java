package io.marzban.iplimiter.support;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The agent (or the limiter) as a separate JVM started by bin/marzban-ip-limiter-node, as an operator runs it,
 * so that it can be signalled or killed with -9. The launcher runs from a home of its own whose jar only names
 * the test class path: the classes just compiled, with the launcher's JVM flags.
 */
public final class AgentProcess implements AutoCloseable {

    private static Path launcherHome;

    private final Process process;
    private final Path output;

    private AgentProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** Runs the agent with exactly {@code env} (plus PATH and JAVA for the launcher); output goes to {@code output}. */
    public static AgentProcess start(Map<String, String> env, Path output) throws IOException {
        return start(env, output, List.of("agent"));
    }

    /** Runs the launcher with {@code arguments} (its command, then the command's arguments), as {@link #start} does. */
    public static AgentProcess start(Map<String, String> env, Path output, List<String> arguments)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(launcher().toString()));
        command.addAll(arguments);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(output.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        builder.environment().clear();
        builder.environment().putAll(launcherEnvironment());
        builder.environment().putAll(env);
        Process process = builder.start();
        // a test that fails before it stops its agent must not leave the JVM behind
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        return new AgentProcess(process, output);
    }

    private static Map<String, String> launcherEnvironment() {
        return Map.of("PATH", System.getenv("PATH"),
                "JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** bin/marzban-ip-limiter-node in a home made once per test JVM. */
    private static synchronized Path launcher() throws IOException {
        if (launcherHome == null) {
            Path home = Files.createTempDirectory("launcher-home-");
            Path bin = Files.createDirectories(home.resolve("bin"));
            Files.copy(Path.of("bin", "marzban-ip-limiter-node"), bin.resolve("marzban-ip-limiter-node"),
                    StandardCopyOption.COPY_ATTRIBUTES);
            writeClassPathJar(home.resolve("marzban-ip-limiter-node.jar"));
            // Java cannot archive classes from directories: the launcher notes that once, not at every start
            ProcessBuilder archive = new ProcessBuilder(bin.resolve("marzban-ip-limiter-node").toString(), "cds-archive")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            archive.environment().putAll(launcherEnvironment());
            try {
                archive.start().waitFor(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteRecursively(home)));
            launcherHome = home;
        }
        return launcherHome.resolve("bin").resolve("marzban-ip-limiter-node");
    }

    private static void writeClassPathJar(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "io.marzban.iplimiter.Launcher");
        // an empty entry would put the working directory (and its routes/) on the class path
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", Arrays.stream(
                System.getProperty("java.class.path").split(File.pathSeparator)).filter(e -> !e.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().toUri().toString()).toList()));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind
        }
    }

    /** Starts the agent as {@link #start} does and waits until it has decided where to read its log from. */
    public static AgentProcess following(Map<String, String> env, Path output) throws IOException,
            InterruptedException {
        AgentProcess agent = start(env, output);
        try {
            // what the tailer logs once it knows where to read from: a new file, a stored position, a rotated file
            Wait.until("the agent follows its log", java.time.Duration.ofSeconds(60), () -> !agent.process.isAlive()
                    || Stream.of("; starting at offset", "Resuming ", "reading the rest of it from")
                            .anyMatch(agent.outputText()::contains));
        } catch (AssertionError e) {
            agent.kill();
            throw new AssertionError(e.getMessage() + "; its output:\n" + agent.outputText());
        }
        if (!agent.process.isAlive()) {
            throw new AssertionError("the agent exited at start; its output:\n" + agent.outputText());
        }
        return agent;
    }

    /** Graceful stop (SIGTERM), as a try-with-resources block ends. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            terminate();
        }
    }

    /** SIGTERM, as docker stop and systemd send it; returns the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        return waitForExit();
    }

    /** SIGINT, as Ctrl-C in a terminal sends it. */
    public void interrupt() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
    }

    /** The processes this one started and that still run. */
    public List<ProcessHandle> descendants() {
        return process.descendants().toList();
    }

    /** SIGKILL: no shutdown code runs. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** Waits until the agent's output contains {@code text}. */
    public void awaitOutput(String text) throws InterruptedException {
        try {
            Wait.until("agent output containing '" + text + "'", java.time.Duration.ofSeconds(60),
                    () -> outputText().contains(text) || !process.isAlive());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; its output:\n" + outputText());
        }
        if (!outputText().contains(text)) {
            throw new AssertionError("the agent exited before printing '" + text + "'; its output:\n" + outputText());
        }
    }

    public int waitForExit() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the agent did not exit; its output:\n" + outputText());
        }
        return process.exitValue();
    }

    public List<String> outputLines() throws IOException {
        return Files.readAllLines(output);
    }

    public String outputText() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

}
