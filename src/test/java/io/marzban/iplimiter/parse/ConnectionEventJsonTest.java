package io.marzban.iplimiter.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ConnectionEventJsonTest {

    private final ObjectMapper mapper = new ObjectMapper();

    @Test
    void serializesFieldsInOrderWithPlainSixDigitEpochSeconds() throws JsonProcessingException {
        ConnectionEvent event = new ConnectionEvent(
                Instant.ofEpochSecond(1_740_852_251L, 1_000L),
                "node-1", "Frankfurt 1", "17.maria", "2001:db8:41::9",
                "2025/03/01 18:04:11.000001 from [2001:db8:41::9]:40112 accepted tcp:a:443 [\"q\" >> out] email: 17.maria",
                Instant.ofEpochSecond(1_740_852_600L));

        assertEquals("{\"timestamp\":1740852251.000001,\"node_id\":\"node-1\",\"node_name\":\"Frankfurt 1\","
                + "\"email\":\"17.maria\",\"client_ip\":\"2001:db8:41::9\","
                + "\"raw_line\":\"2025/03/01 18:04:11.000001 from [2001:db8:41::9]:40112 accepted tcp:a:443 "
                + "[\\\"q\\\" >> out] email: 17.maria\","
                + "\"processed_at\":1740852600.000000}",
                mapper.writeValueAsString(event));
    }

    @Test
    void keepsEveryMicrosecondDigitWithoutExponent() throws JsonProcessingException {
        ConnectionEvent event = new ConnectionEvent(
                Instant.parse("2025-03-01T18:04:11.093528Z"), "n", "n", "e", "ip", "line",
                Instant.parse("2025-03-01T18:10:00.999999Z"));

        assertEquals("{\"timestamp\":1740852251.093528,\"node_id\":\"n\",\"node_name\":\"n\",\"email\":\"e\","
                + "\"client_ip\":\"ip\",\"raw_line\":\"line\",\"processed_at\":1740852600.999999}",
                mapper.writeValueAsString(event));
    }
}
