package io.marzban.iplimiter.parse;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.time.Instant;

/**
 * Writes an instant (at or after 1970) as epoch seconds with exactly six fractional digits,
 * e.g. {@code 1740852251.093528}. A double would lose the last microsecond digit and may print
 * in exponent notation, so the number is written from its text.
 */
public final class EpochSecondsSerializer extends StdSerializer<Instant> {

    private static final int MICROS_DIGITS = 6;

    public EpochSecondsSerializer() {
        super(Instant.class);
    }

    @Override
    public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider) throws IOException {
        gen.writeNumber(format(value));
    }

    static String format(Instant value) {
        String micros = Integer.toString(value.getNano() / 1_000);
        StringBuilder text = new StringBuilder(20).append(value.getEpochSecond()).append('.');
        for (int i = micros.length(); i < MICROS_DIGITS; i++) {
            text.append('0');
        }
        return text.append(micros).toString();
    }
}
