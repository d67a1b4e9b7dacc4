package io.marzban.iplimiter.management;

import com.sun.net.httpserver.HttpExchange;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.util.Date;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.api.management.ManagedCamelContext;
import org.apache.camel.api.management.mbean.ManagedCamelContextMBean;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.spi.ReloadStrategy;
import org.apache.camel.support.CamelContextHelper;
import org.apache.camel.support.service.ServiceHelper;
import org.apache.camel.util.HomeHelper;
import org.apache.camel.util.TimeUtils;
import org.apache.camel.util.json.JsonObject;

/**
 * {@code /observe/info}: the operating system, the JVM and the process's user and directories, and Camel's summary
 * (ready, status, age, routes started, exchange counts), in the JSON of Camel Main's own management server.
 */
final class InfoAnswer implements Answer {

    private final CamelContext context;

    InfoAnswer(CamelContext context) {
        this.context = context;
    }

    @Override
    public Reply answer(HttpExchange request) {
        JsonObject root = new JsonObject();
        JsonObject os = new JsonObject();
        root.put("os", os);
        os.put("name", System.getProperty("os.name"));
        os.put("version", System.getProperty("os.version"));
        os.put("arch", System.getProperty("os.arch"));
        JsonObject java = new JsonObject();
        root.put("java", java);
        RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        java.put("pid", runtime.getPid());
        java.put("vendor", runtime.getVmVendor());
        java.put("name", runtime.getVmName());
        java.put("vmVersion", runtime.getVmVersion());
        java.put("version", System.getProperty("java.version"));
        java.put("user", System.getProperty("user.name"));
        java.put("dir", System.getProperty("user.dir"));
        java.put("home", HomeHelper.resolveHomeDir());
        root.put("camel", camel());
        return Reply.json(200, root.toJson());
    }

    private JsonObject camel() {
        JsonObject camel = new JsonObject();
        camel.put("name", context.getName());
        camel.put("version", context.getVersion());
        if (context.getCamelContextExtension().getProfile() != null) {
            camel.put("profile", context.getCamelContextExtension().getProfile());
        }
        if (context.getCamelContextExtension().getDescription() != null) {
            camel.put("description", context.getCamelContextExtension().getDescription());
        }
        boolean up = HealthCheckHelper.invoke(context).stream()
                .allMatch(result -> result.getState() == HealthCheck.State.UP);
        camel.put("ready", up ? "1/1" : "0/1");
        camel.put("status", state(context.getCamelContextExtension().getStatusPhase()));
        camel.put("reload", context.hasServices(ReloadStrategy.class).stream()
                .mapToInt(ReloadStrategy::getReloadCounter).sum());
        camel.put("age", CamelContextHelper.getUptime(context));
        ManagedCamelContext managed = context.getCamelContextExtension().getContextPlugin(ManagedCamelContext.class);
        if (managed != null) {
            exchanges(camel, managed.getManagedCamelContext());
        }
        return camel;
    }

    private void exchanges(JsonObject camel, ManagedCamelContextMBean bean) {
        long routes = context.getRoutes().stream().filter(InfoAnswer::ours).count();
        long started = context.getRoutes().stream().filter(InfoAnswer::ours).filter(ServiceHelper::isStarted).count();
        camel.put("routes", started + "/" + routes);
        String throughput = bean.getThroughput().replace(',', '.');
        if (!throughput.isEmpty()) {
            camel.put("exchangesThroughput", throughput + "/s");
        }
        camel.put("exchangesTotal", bean.getExchangesTotal());
        camel.put("exchangesFailed", bean.getExchangesFailed());
        camel.put("exchangesInflight", bean.getExchangesInflight());
        if (bean.getExchangesTotal() > 0) {
            camel.put("lastProcessingTime", bean.getLastProcessingTime());
            camel.put("deltaProcessingTime", bean.getDeltaProcessingTime());
        }
        since(camel, "sinceLastExchangeCreated", bean.getLastExchangeCreatedTimestamp());
        since(camel, "sinceLastExchangeFailed", bean.getLastExchangeFailureTimestamp());
        since(camel, "sinceLastExchangeCompleted", bean.getLastExchangeCompletedTimestamp());
    }

    private static boolean ours(Route route) {
        return !route.isCreatedByRestDsl() && !route.isCreatedByKamelet();
    }

    private static void since(JsonObject camel, String key, Date last) {
        if (last != null) {
            camel.put(key, TimeUtils.printSince(last.getTime()));
        }
    }

    private static String state(int phase) {
        return switch (phase) {
            case 0, 1, 2, 3, 4 -> "Starting";
            case 5 -> "Running";
            case 6 -> "Suspending";
            case 7 -> "Suspended";
            case 8 -> "Terminating";
            default -> "Terminated";
        };
    }
}
