package io.marzban.iplimiter.management;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import org.apache.camel.main.HttpManagementServerConfigurationProperties;
import org.apache.camel.main.Main;
import org.slf4j.LoggerFactory;

/**
 * The management HTTP server of a Camel Main (agent or limiter) at MANAGEMENT_HOST:MANAGEMENT_PORT: /observe/health,
 * /observe/metrics (Prometheus), /observe/info and /observe/jolokia (for Hawtio; what it may do is in
 * jolokia-access.xml), with basic authentication from MANAGEMENT_AUTH_FILE when set.
 */
public final class ManagementServer {

    private ManagementServer() {
    }

    /** @param authFile MANAGEMENT_AUTH_FILE, or null for none (warned about unless the host is a loopback one) */
    public static void configure(Main main, String host, int port, Path authFile) {
        // which endpoints it serves, and the meters and JMX statistics, are fixed: application.properties
        HttpManagementServerConfigurationProperties management = main.configure().httpManagementServer()
                .withHost(host)
                .withPort(port);
        if (authFile != null) {
            management.withAuthenticationEnabled(true).withBasicPropertiesFile(authFile.toString());
        } else if (!isLoopback(host)) {
            LoggerFactory.getLogger(ManagementServer.class).warn("The management server listens on {} without "
                    + "authentication; set MANAGEMENT_AUTH_FILE, or keep MANAGEMENT_HOST on 127.0.0.1", host);
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
