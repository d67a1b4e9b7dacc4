package io.marzban.iplimiter.config;

import java.util.function.Supplier;

/** A setting the agent cannot start with; the message is the one line an operator sees. */
public final class SettingsException extends RuntimeException {

    public SettingsException(String message) {
        super(message, null, false, false);
    }

    /**
     * The settings {@code read} returns; if they cannot be had, one line {@code marzban-ip-limiter-node:
     * configuration error: ...} on stderr and exit code 2, since nothing has started.
     */
    public static <T> T orExit(Supplier<T> read) {
        try {
            return read.get();
        } catch (SettingsException e) {
            System.err.println("marzban-ip-limiter-node: configuration error: " + e.getMessage());
        } catch (RuntimeException e) {
            // a check we did not foresee: still one line
            System.err.println("marzban-ip-limiter-node: configuration error: " + e);
        }
        System.exit(2);
        throw new IllegalStateException("System.exit returned");
    }
}
