package io.marzban.iplimiter.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's start configuration, in code: one console appender at INFO. A logback.xml would do the same, but
 * parsing it loaded about 240 classes of logback's XML machinery (some 1.5 MiB on the node). LOG_LEVEL,
 * LOG_FORMAT and the node property are applied once validated, by {@link Logging}. A logback.xml or
 * logback-test.xml on the class path (the tests', an operator's) is still used instead.
 */
public final class LogbackDefaults extends ContextAwareBase implements Configurator {

    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level node=%property{node} [%thread] "
            + "%logger{0} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ClassLoader loader = LogbackDefaults.class.getClassLoader();
        if (loader.getResource("logback-test.xml") != null || loader.getResource("logback.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(Logging.console(context, "STDOUT", encoder));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
