package io.marzban.iplimiter.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import org.slf4j.LoggerFactory;

/** Applies LOG_LEVEL and LOG_FORMAT to logback once they are validated; {@link LogbackDefaults} set the start. */
public final class Logging {

    private Logging() {
    }

    /** @param node NODE_ID, put on every line (text: {@code node=...}; JSON: under context.properties) */
    public static void configure(String level, String format, String node) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.putProperty("node", node);
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level));
        if ("json".equals(format)) {
            // one JSON object per line, for log collectors
            JsonEncoder encoder = new JsonEncoder();
            encoder.setContext(context);
            encoder.setWithFormattedMessage(true);
            encoder.start();
            root.detachAndStopAllAppenders();
            root.addAppender(console(context, "JSON", encoder));
        }
    }

    /** A started appender writing to stdout with {@code encoder}. */
    static ConsoleAppender<ILoggingEvent> console(LoggerContext context, String name, Encoder<ILoggingEvent> encoder) {
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName(name);
        console.setEncoder(encoder);
        console.start();
        return console;
    }
}
