package io.marzban.iplimiter.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Where the central Redis is, parsed from {@code CENTRAL_REDIS_URL}: one server
 * ({@code redis[s]://[[user]:password@]host[:port][/db]}), the sentinels that know its master
 * ({@code redis[s]-sentinel://...@host1[:port1],host2[:port2][/db]#master}) or seed nodes of a cluster
 * ({@code redis[s]-cluster://...@host1[:port1],host2[:port2]}). {@link #toString()} never shows a password.
 *
 * @param nodes            the server; the sentinels; or the cluster's seed nodes
 * @param masterName       the master the sentinels are asked for; null for the other topologies
 * @param sentinelPassword what the sentinels themselves ask for (CENTRAL_REDIS_SENTINEL_PASSWORD_FILE), or null
 */
public record RedisEndpoint(Topology topology, List<Node> nodes, String masterName, boolean tls, String user,
                            String password, int database, String sentinelPassword) {

    public enum Topology {
        STANDALONE("redis"), SENTINEL("redis-sentinel"), CLUSTER("redis-cluster");

        private final String scheme;

        Topology(String scheme) {
            this.scheme = scheme;
        }

        String scheme(boolean tls) {
            return tls ? scheme.replaceFirst("redis", "rediss") : scheme;
        }
    }

    public record Node(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private static final String EXPECTED = "expected redis://[user:password@]host[:port][/db], "
            + "redis-sentinel://[user:password@]host1[:port1][,host2[:port2]...][/db]#master, "
            + "redis-cluster://[user:password@]host1[:port1][,host2[:port2]...] or their rediss variants "
            + "(percent-encode / ? # @ , in a password)";

    public RedisEndpoint {
        nodes = List.copyOf(nodes);
    }

    /** One server, the form before sentinels and clusters. */
    public RedisEndpoint(String host, int port, boolean tls, String user, String password, int database) {
        this(Topology.STANDALONE, List.of(new Node(host, port)), null, tls, user, password, database, null);
    }

    /**
     * @param passwordInFile the password comes from CENTRAL_REDIS_PASSWORD_FILE: then {@code redis://name@host}
     *                       names the user instead of being the legacy password-only form
     */
    static RedisEndpoint parse(String variable, String url, boolean passwordInFile) {
        int schemeEnd = url.indexOf("://");
        String authority = schemeEnd < 0 ? "" : url.substring(schemeEnd + 3, authorityEnd(url, schemeEnd + 3));
        URI uri = syntax(variable, url, schemeEnd, authority);
        String scheme = String.valueOf(uri.getScheme());
        boolean tls = scheme.startsWith("rediss");
        Topology topology = null;
        for (Topology candidate : Topology.values()) {
            if (candidate.scheme(tls).equals(scheme)) {
                topology = candidate;
            }
        }
        if (topology == null) {
            throw new SettingsException(variable + " has scheme '" + scheme + "'; " + EXPECTED);
        }
        if (authority.isEmpty()) {
            throw new SettingsException(variable + " has no host; " + EXPECTED);
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
        int defaultPort = topology == Topology.SENTINEL ? 26379 : 6379;
        List<Node> nodes = new ArrayList<>();
        for (String hostPort : authority.substring(at + 1).split(",", -1)) {
            nodes.add(node(variable, hostPort, defaultPort));
        }
        if (topology == Topology.STANDALONE && nodes.size() > 1) {
            throw new SettingsException(variable + " names " + nodes.size() + " hosts; a redis:// URL names one "
                    + "(redis-sentinel:// and redis-cluster:// name several)");
        }
        int database = database(variable, uri.getPath());
        if (topology == Topology.CLUSTER && database != 0) {
            throw new SettingsException(variable + " has database '" + database + "'; a Redis Cluster has only "
                    + "database 0: leave /db out of a redis-cluster:// URL");
        }
        String masterName = uri.getFragment();
        if (topology == Topology.SENTINEL && (masterName == null || masterName.isEmpty())) {
            throw new SettingsException(variable + " names no master; expected the sentinels' master name at the "
                    + "end, as in redis-sentinel://host1,host2,host3#mymaster");
        }
        if (topology != Topology.SENTINEL && masterName != null) {
            throw new SettingsException(variable + " ends in #" + masterName + "; only a redis-sentinel:// URL "
                    + "names a master (percent-encode a # in a password as %23)");
        }
        return new RedisEndpoint(topology, nodes, masterName, tls, user, password, database, null);
    }

    private static int authorityEnd(String url, int from) {
        for (int i = from; i < url.length(); i++) {
            if ("/?#".indexOf(url.charAt(i)) >= 0) {
                return i;
            }
        }
        return url.length();
    }

    /**
     * Checks the URL's syntax with java.net.URI, one host at a time (it refuses several hosts, and [::1] among
     * them); the URI with the first host gives the scheme, path and fragment.
     */
    private static URI syntax(String variable, String url, int schemeEnd, String authority) {
        try {
            if (schemeEnd < 0) {
                return new URI(url);
            }
            int at = authority.lastIndexOf('@');
            String before = url.substring(0, schemeEnd + 3) + authority.substring(0, at + 1);
            String after = url.substring(schemeEnd + 3 + authority.length());
            URI first = null;
            for (String hostPort : authority.substring(at + 1).split(",", -1)) {
                if (!hostPort.isEmpty()) {
                    URI single = new URI(before + hostPort + after);
                    first = first == null ? single : first;
                }
            }
            return first != null ? first : new URI(url);
        } catch (URISyntaxException e) {
            throw new SettingsException(variable + " is not a valid URL (" + e.getReason() + "); " + EXPECTED);
        }
    }

    /** Parsed by hand: java.net.URI leaves the host null for Docker names such as marzban_redis. */
    private static Node node(String variable, String hostPort, int defaultPort) {
        int portColon = hostPort.lastIndexOf(':');
        if (portColon < hostPort.lastIndexOf(']')) {
            portColon = -1;
        }
        String host = portColon < 0 ? hostPort : hostPort.substring(0, portColon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new SettingsException(variable + " has no host" + (hostPort.isEmpty() ? "" : " in '" + hostPort
                    + "'") + "; " + EXPECTED);
        }
        int port = defaultPort;
        if (portColon >= 0) {
            port = parsePort(hostPort.substring(portColon + 1));
            if (port < 1) {
                throw new SettingsException(variable + " has port '" + hostPort.substring(portColon + 1)
                        + "'; expected a number from 1 to 65535");
            }
        }
        return new Node(host, port);
    }

    private static int database(String variable, String path) {
        if (path == null || path.length() <= 1) {
            return 0;
        }
        int database;
        try {
            database = Integer.parseInt(path.substring(1));
        } catch (NumberFormatException e) {
            database = -1;
        }
        if (database < 0) {
            throw new SettingsException(variable + " has database '" + path.substring(1)
                    + "'; expected a number such as /0");
        }
        return database;
    }

    RedisEndpoint withPassword(String secret) {
        return new RedisEndpoint(topology, nodes, masterName, tls, user, secret, database, sentinelPassword);
    }

    RedisEndpoint withSentinelPassword(String secret) {
        return new RedisEndpoint(topology, nodes, masterName, tls, user, password, database, secret);
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
        String hosts = nodes.stream().map(Node::toString).collect(Collectors.joining(","));
        return topology.scheme(tls) + "://" + credentials + hosts + (topology == Topology.CLUSTER ? "" : "/" + database)
                + (masterName == null ? "" : "#" + masterName);
    }
}
