package io.marzban.iplimiter.config;

/** A setting the agent cannot start with; the message is the one line an operator sees. */
public final class SettingsException extends RuntimeException {

    public SettingsException(String message) {
        super(message, null, false, false);
    }
}
