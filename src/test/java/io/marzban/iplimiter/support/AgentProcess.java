package io.marzban.iplimiter.support;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The agent as a separate JVM, as an operator runs it, so that it can be signalled or killed with -9. */
public final class AgentProcess {

    private final Process process;
    private final Path output;

    private AgentProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** Starts {@code io.marzban.iplimiter.Agent} on the test class path with exactly {@code env}; output goes to {@code output}. */
    public static AgentProcess start(Map<String, String> env, Path output) throws IOException {
        return start(env, output, List.of("io.marzban.iplimiter.Agent"));
    }

    /** Starts {@code mainClassAndArgs} (a class on the test class path, then its arguments), as {@link #start} does. */
    public static AgentProcess start(Map<String, String> env, Path output, List<String> mainClassAndArgs)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // an empty entry would put the working directory (and its routes/) on the class path
        String classPath = String.join(File.pathSeparator, Arrays.stream(
                System.getProperty("java.class.path").split(File.pathSeparator)).filter(e -> !e.isEmpty()).toList());
        List<String> command = new java.util.ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-Xmx64m", "-cp", classPath));
        command.addAll(mainClassAndArgs);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(output.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = builder.start();
        // a test that fails before it stops its agent must not leave the JVM behind
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        return new AgentProcess(process, output);
    }

    /** SIGTERM, as docker stop and systemd send it; returns the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        return waitForExit();
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
