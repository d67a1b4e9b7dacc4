package io.marzban.iplimiter.management;

import java.nio.charset.StandardCharsets;

/** An answer of the management server: status, content type (null for none) and body. */
public record Reply(int status, String contentType, byte[] body) {

    public static final String JSON = "application/json";

    public static Reply json(int status, String json) {
        return new Reply(status, JSON, json.getBytes(StandardCharsets.UTF_8));
    }

    public static Reply text(int status, String contentType, String text) {
        return new Reply(status, contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A status with an empty body, such as 404. */
    public static Reply empty(int status) {
        return new Reply(status, null, new byte[0]);
    }
}
