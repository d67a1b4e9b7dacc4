package io.marzban.iplimiter.redis;

import javax.net.ssl.SSLException;

/** A failed command against the central Redis, with a message that names the server but never its password. */
public final class CentralRedisException extends RuntimeException {

    /** @param server the URL (never with its password) and the server connected to */
    CentralRedisException(String server, Exception cause) {
        super("central Redis " + server + ": " + describe(cause), null, false, false);
    }

    /** Jedis wraps a TLS failure several levels deep; the operator needs the innermost reason. */
    private static String describe(Exception cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                Throwable root = t;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                return "TLS handshake failed: " + root.getMessage() + " (check CENTRAL_REDIS_CA_FILE, that the "
                        + "certificate names the host in CENTRAL_REDIS_URL, and the client certificate if the "
                        + "server asks for one)";
            }
        }
        // EXECABORT says only "previous errors": the refused queued command says which (MOVED, READONLY, ...)
        return cause.getSuppressed().length == 0 ? cause.getMessage()
                : cause.getMessage() + " (" + cause.getSuppressed()[0].getMessage() + ")";
    }
}
