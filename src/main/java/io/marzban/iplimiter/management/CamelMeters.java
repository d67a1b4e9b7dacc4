package io.marzban.iplimiter.management;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;

/**
 * Camel's own meters at /observe/metrics: {@code app_info} (Camel's version and the context's name) and the
 * {@code camel_routes_added} and {@code camel_routes_running} gauges. Made here rather than by camel-micrometer's
 * services: those cannot load without the Vert.x server they scrape for, and its route notifier alone pulled in
 * Jackson's data binding (some 370 classes) for a JMX dump; its other meters, timers around every exchange or
 * step, stay off: they cost more than the agent's own work per line.
 */
final class CamelMeters {

    private CamelMeters() {
    }

    static void addTo(CamelContext context, MeterRegistry meters) {
        Gauge.builder("app.info", () -> 1).description("Camel's version, and the name of the Camel context")
                .tag("camel.version", context.getVersion()).tag("camel.context", context.getName()).register(meters);
        Gauge.builder("camel.routes.added", context, routes -> routes.getRoutes().size())
                .description("Routes added").register(meters);
        Gauge.builder("camel.routes.running", context, CamelMeters::running)
                .description("Routes running").register(meters);
    }

    private static long running(CamelContext context) {
        long running = 0;
        for (Route route : context.getRoutes()) {
            if (context.getRouteController().getRouteStatus(route.getId()).isStarted()) {
                running++;
            }
        }
        return running;
    }
}
