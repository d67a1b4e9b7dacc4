package io.marzban.iplimiter.management;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.InetSocketAddress;
import javax.management.RuntimeMBeanException;
import org.jolokia.core.api.LogHandler;
import org.jolokia.json.JSONStructure;
import org.jolokia.server.core.config.ConfigKey;
import org.jolokia.server.core.config.StaticConfiguration;
import org.jolokia.server.core.http.HttpRequestHandler;
import org.jolokia.server.core.restrictor.RestrictorFactory;
import org.jolokia.server.core.service.JolokiaServiceManagerFactory;
import org.jolokia.server.core.service.api.JolokiaServiceManager;
import org.jolokia.server.core.service.api.Restrictor;
import org.jolokia.server.core.util.NetworkUtil;
import org.jolokia.service.jmx.LocalRequestHandler;
import org.jolokia.service.serializer.JolokiaSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /observe/jolokia} (GET and POST, and the paths below it): Jolokia 2 over this JVM's MBeans, Camel's
 * included, for Hawtio, as camel-platform-http-jolokia set it up: JSON, HTTP 200 with Jolokia's own status in the
 * body (500 when Jolokia itself failed). What it may do is in jolokia-access.xml; without that file it would allow
 * everything, so it refuses to start instead.
 */
final class JolokiaAnswer implements Answer {

    private static final String POLICY = "classpath:/jolokia-access.xml";
    private static final Logger LOG = LoggerFactory.getLogger(JolokiaAnswer.class);

    private final String path;
    private final JolokiaServiceManager services;
    private final HttpRequestHandler jolokia;

    private JolokiaAnswer(String path, JolokiaServiceManager services) {
        this.path = path;
        this.services = services;
        this.jolokia = new HttpRequestHandler(services.start());
    }

    /** Jolokia's services, started, answering under {@code path}; {@link #stop()} them. */
    static JolokiaAnswer start(String path) throws IOException {
        Restrictor policy = RestrictorFactory.lookupPolicyRestrictor(POLICY);
        if (policy == null) {
            throw new IOException("Jolokia's access policy " + POLICY + " is missing");
        }
        StaticConfiguration configuration = new StaticConfiguration(ConfigKey.AGENT_ID,
                NetworkUtil.getAgentId(path.hashCode(), "jvm"));
        JolokiaServiceManager services = JolokiaServiceManagerFactory.createJolokiaServiceManager(configuration,
                new Slf4jLog(), policy);
        services.addService(new JolokiaSerializer());
        services.addService(new LocalRequestHandler(1));
        return new JolokiaAnswer(path, services);
    }

    void stop() {
        services.stop();
    }

    @Override
    public Reply answer(HttpExchange request) {
        String uri = request.getRequestURI().toString();
        String pathInfo = request.getRequestURI().getPath().substring(path.length()); // as a servlet's
        int status = 200;
        JSONStructure json;
        try {
            InetSocketAddress client = request.getRemoteAddress();
            String origin = request.getRequestHeaders().getFirst("Origin");
            jolokia.checkAccess("http", client.getHostString(), client.getAddress().getHostAddress(), // no TLS here
                    origin != null ? origin : request.getRequestHeaders().getFirst("Referer"));
            json = "GET".equals(request.getRequestMethod())
                    ? jolokia.handleGetRequest(uri, pathInfo, Answer.parameters(request))
                    : jolokia.handlePostRequest(uri, request.getRequestBody(), "UTF-8", Answer.parameters(request));
        } catch (Throwable e) {
            status = 500;
            json = jolokia.handleThrowable(e instanceof RuntimeMBeanException mbean ? mbean.getTargetException() : e);
        }
        return Reply.json(status, json == null ? "" : json.toJSONString());
    }

    /** Jolokia's messages in the agent's log. */
    private static final class Slf4jLog implements LogHandler {

        @Override
        public void debug(String message) {
            LOG.debug(message);
        }

        @Override
        public void info(String message) {
            LOG.info(message);
        }

        @Override
        public void error(String message, Throwable error) {
            LOG.error(message, error);
        }

        @Override
        public boolean isDebug() {
            return LOG.isDebugEnabled();
        }
    }
}
