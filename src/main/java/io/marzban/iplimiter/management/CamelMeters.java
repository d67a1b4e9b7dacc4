package io.marzban.iplimiter.management;

import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.eventnotifier.MicrometerRouteEventNotifier;

/**
 * Camel's own meters at /observe/metrics: {@code app_info} (Camel's version) and the {@code camel_routes_*} gauges
 * (routes added, running, reloaded). camel.metrics.enabled made them through camel-micrometer-prometheus's service,
 * which cannot load without the Vert.x server it scrapes for; its other meters, timers around every exchange or
 * step, stay off: they cost more than the agent's own work per line.
 */
final class CamelMeters {

    private CamelMeters() {
    }

    /** Before the routes are added, so that they are counted. */
    static void addTo(CamelContext context, MeterRegistry meters) {
        MicrometerRouteEventNotifier routes = new MicrometerRouteEventNotifier();
        routes.setMeterRegistry(meters);
        context.getManagementStrategy().addEventNotifier(routes);
    }
}
