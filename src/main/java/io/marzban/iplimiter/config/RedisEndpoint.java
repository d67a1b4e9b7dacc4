package io.marzban.iplimiter.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Where the central Redis is, parsed from {@code CENTRAL_REDIS_URL}
 * ({@code redis[s]://[[user]:password@]host[:port][/db]}). {@link #toString()} never shows the password.
 */
public record RedisEndpoint(String host, int port, boolean tls, String user, String password, int database) {

    /**
     * @param passwordInFile the password comes from CENTRAL_REDIS_PASSWORD_FILE: then {@code redis://name@host}
     *                       names the user instead of being the legacy password-only form
     */
    static RedisEndpoint parse(String variable, String url, boolean passwordInFile) {
        String expected = "expected redis://[user:password@]host[:port][/db] or rediss://... "
                + "(percent-encode / ? # @ in a password)";
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new SettingsException(variable + " is not a valid URL (" + e.getReason() + "); " + expected);
        }
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw new SettingsException(variable + " has scheme '" + scheme + "'; " + expected);
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new SettingsException(variable + " has no host; " + expected);
        }
        String user = null;
        String password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            int colon = userInfo.indexOf(':');
            if (colon < 0 && passwordInFile) {
                user = decode(userInfo);
            } else if (colon < 0) {
                // redis://secret@host is the common password-only form
                password = decode(userInfo);
            } else {
                user = colon == 0 ? null : decode(userInfo.substring(0, colon));
                password = colon == userInfo.length() - 1 ? null : decode(userInfo.substring(colon + 1));
            }
        }
        // parsed by hand: java.net.URI leaves the host null for Docker names such as marzban_redis
        String hostPort = authority.substring(at + 1);
        int portColon = hostPort.lastIndexOf(':');
        if (portColon < hostPort.lastIndexOf(']')) {
            portColon = -1;
        }
        String host = portColon < 0 ? hostPort : hostPort.substring(0, portColon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new SettingsException(variable + " has no host; " + expected);
        }
        int port = 6379;
        if (portColon >= 0) {
            port = parsePort(hostPort.substring(portColon + 1));
            if (port < 1) {
                throw new SettingsException(variable + " has port '" + hostPort.substring(portColon + 1)
                        + "'; expected a number from 1 to 65535");
            }
        }
        int database = 0;
        String path = uri.getPath();
        if (path != null && path.length() > 1) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                database = -1;
            }
            if (database < 0) {
                throw new SettingsException(variable + " has database '" + path.substring(1)
                        + "'; expected a number such as /0");
            }
        }
        return new RedisEndpoint(host, port, "rediss".equals(scheme), user, password, database);
    }

    RedisEndpoint withPassword(String secret) {
        return new RedisEndpoint(host, port, tls, user, secret, database);
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            return port <= 65535 ? port : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String decode(String part) {
        // percent-decoding only: URLDecoder would also turn a '+' in a password into a space
        return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        String credentials = password == null ? "" : (user == null ? "" : user) + ":***@";
        return (tls ? "rediss://" : "redis://") + credentials + host + ":" + port + "/" + database;
    }
}
