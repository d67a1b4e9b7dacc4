package io.marzban.iplimiter.support;

import java.util.List;
import java.util.stream.IntStream;

/** Distinct accepted access-log lines: line {@code i} has its own time, client and user. */
public final class AccessLines {

    /** Accepted lines with an email, one of each shape Xray and V2Ray write (docs/CONFIGURATION.md, "Which lines become events"). */
    public static final List<String> FORMAT_NOTE_EXAMPLES = List.of(
            "2025/03/01 18:04:11.093528 from 198.51.100.23:40112 accepted tcp:www.example.com:443 "
                    + "[VLESS TCP REALITY >> DIRECT] email: 17.maria",
            "2025/03/01 18:04:11.204117 from tcp:203.0.113.80:5531 accepted udp:192.0.2.53:53 "
                    + "[VLESS TCP REALITY -> BLOCK] email: 3.ivan.petrov",
            "2024/10/02 07:15:00 from [2001:db8:41::9]:40112 accepted tcp:api.example.org:443 [vmess-ws >> direct] "
                    + "email: 5.olga",
            "2024/10/02 07:15:02 from 192.0.2.77:0 accepted tcp:198.51.100.9:443 [vless-grpc >> IPv4] email: 8.kim",
            "2023/06/11 22:40:19 203.0.113.5:61200 accepted tcp:cdn.example.net:443 [TROJAN -> direct] email: 12.lee",
            "2022/02/08 09:01:44 198.51.100.4:3321 accepted tcp:example.com:80 [direct] email:4.sam ");

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
