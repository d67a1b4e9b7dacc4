package io.marzban.iplimiter.management;

import com.sun.net.httpserver.HttpExchange;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * {@code /observe/metrics}: every meter of the registry (Camel's, the JVM's and ours) in Prometheus text format 0.0.4,
 * or OpenMetrics 1.0.0 to a scraper that accepts it, as camel-micrometer-prometheus answered.
 */
final class MetricsAnswer implements Answer {

    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
    private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry meters;

    MetricsAnswer(PrometheusMeterRegistry meters) {
        this.meters = meters;
    }

    @Override
    public Reply answer(HttpExchange request) {
        String accept = request.getRequestHeaders().getFirst("Accept");
        String format = accept != null && accept.contains("application/openmetrics-text") ? OPEN_METRICS : PROMETHEUS;
        return Reply.text(200, format, meters.scrape(format));
    }
}
