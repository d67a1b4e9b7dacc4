package io.marzban.iplimiter.demo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An access log that keeps growing as Xray's does: one write() per line, about 40 lines a second, from a dozen
 * users. Most use one or two devices; {@code 4.dave} uses four and {@code 6.frank} three, so with IP_LIMIT=2 the
 * limiter has someone to report. Now and then a line the agent skips: a rejected connection, or one without a user.
 */
final class SampleAccessLog implements AutoCloseable {

    static final int LINES_PER_SECOND = 40;

    private static final DateTimeFormatter XRAY_TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSSSSS");
    private static final List<String> DESTINATIONS = List.of("tcp:www.google.com:443", "tcp:api.telegram.org:443",
            "udp:1.1.1.1:53", "tcp:i.ytimg.com:443", "tcp:web.whatsapp.com:443", "tcp:[2606:4700::1111]:443");
    private static final List<String> INBOUNDS = List.of("[VLESS_TCP_REALITY >> DIRECT]",
            "[VMESS_WS -> DIRECT]", "[TROJAN_GRPC >> DIRECT]");
    private static final List<List<String>> USERS = List.of(
            List.of("1.alice", "93.184.216.34"),
            List.of("2.bob", "198.51.100.7", "198.51.100.23"),
            List.of("3.carol", "203.0.113.5"),
            List.of("4.dave", "192.0.2.10", "192.0.2.77", "[2001:db8:1::7]", "203.0.113.200"),
            List.of("5.erin", "[2001:db8:2::15]", "198.51.100.90"),
            List.of("6.frank", "192.0.2.150", "203.0.113.66", "198.51.100.140"),
            List.of("7.grace", "93.184.216.99"),
            List.of("8.heidi", "203.0.113.17", "tcp:203.0.113.17"),
            List.of("9.ivan", "198.51.100.201"),
            List.of("10.judy", "[2001:db8:3::1]"));

    private final Path file;
    private final Random random = new Random(42);
    private final AtomicLong written = new AtomicLong();
    private final Thread writer;
    private volatile boolean running = true;

    SampleAccessLog(Path file) {
        this.file = file;
        this.writer = new Thread(this::writeUntilClosed, "demo-access-log");
        writer.setDaemon(true);
    }

    void start() {
        writer.start();
    }

    long linesWritten() {
        return written.get();
    }

    private void writeUntilClosed() {
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            long started = System.nanoTime();
            while (running) {
                out.write(nextLine().getBytes(StandardCharsets.UTF_8)); // unbuffered: one write() per line
                long due = started + (written.incrementAndGet() * TimeUnit.SECONDS.toNanos(1)) / LINES_PER_SECOND;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        } catch (IOException e) {
            System.err.println("[demo] cannot write the sample access log " + file + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String nextLine() {
        String time = XRAY_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
        List<String> user = USERS.get(random.nextInt(USERS.size()));
        String source = user.get(1 + random.nextInt(user.size() - 1)) + ":" + (20_000 + random.nextInt(40_000));
        int odd = random.nextInt(50);
        if (odd == 0) {
            return time + " from " + source + " rejected  proxy/vless/encoding: invalid request user id\n";
        }
        String line = time + " from " + source + " accepted " + DESTINATIONS.get(random.nextInt(DESTINATIONS.size()))
                + " " + INBOUNDS.get(random.nextInt(INBOUNDS.size()));
        return odd == 1 ? line + "\n" : line + " email: " + user.get(0) + "\n"; // no email: skipped as no_email
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        writer.interrupt();
        writer.join(2_000);
    }
}
