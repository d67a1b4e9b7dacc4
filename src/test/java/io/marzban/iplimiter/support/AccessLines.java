package io.marzban.iplimiter.support;

import java.util.List;
import java.util.stream.IntStream;

/** Distinct accepted access-log lines: line {@code i} has its own time, client and user. */
public final class AccessLines {

    private AccessLines() {
    }

    public static String numbered(int i) {
        return String.format("2025/01/15 10:%02d:%02d.%06d from 10.%d.%d.%d:%d accepted tcp:www.example.com:443 "
                        + "[VLESS TCP REALITY >> DIRECT] email: %d.user%d",
                i / 3600 % 60, i / 60 % 60, i % 1_000_000, i / 65536 % 256, i / 256 % 256, i % 256, 1000 + i % 60000,
                i % 800, i);
    }

    public static List<String> numbered(int from, int to) {
        return IntStream.range(from, to).mapToObj(AccessLines::numbered).toList();
    }
}
