package io.marzban.iplimiter.management;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code process_resident_memory_bytes}, the name Prometheus's own clients give it: the process's resident memory
 * (VmRSS in /proc/self/status), what the node's operator pays for, heap or not. Read at each scrape; NaN where
 * there is no /proc (then Prometheus leaves the sample out).
 */
final class ProcessMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {
    }

    static void addTo(MeterRegistry meters) {
        Gauge.builder("process.resident.memory", ProcessMemory::residentBytes).baseUnit("bytes")
                .description("Resident memory of the process (VmRSS)").register(meters);
    }

    private static double residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024.0; // "VmRSS:  85000 kB"
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc here
        }
        return Double.NaN;
    }
}
