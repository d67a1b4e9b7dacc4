package io.marzban.iplimiter.management;

import com.sun.net.httpserver.HttpExchange;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.support.ExceptionHelper;
import org.apache.camel.util.ObjectHelper;
import org.apache.camel.util.json.JsonArray;
import org.apache.camel.util.json.JsonObject;
import org.apache.camel.util.json.Jsoner;

/**
 * {@code /observe/health}, {@code /observe/health/live} and {@code /observe/health/ready}: Camel's health checks as
 * Camel Main's own management server answered them (the same JSON, byte for byte, so that scripts/health-check.sh
 * and the operators' probes read it as before). 200 when UP, 503 when DOWN. Query parameters: {@code exposureLevel}
 * ({@code oneline}: the status only; {@code full}: every check; otherwise the registry's level, by default the DOWN
 * checks only), {@code data=true} (each check's details) and {@code stackTrace=true}.
 */
final class HealthAnswer implements Answer {

    /** Which checks a path asks. */
    enum Checks { ALL, LIVENESS, READINESS }

    private final CamelContext context;
    private final Checks checks;

    HealthAnswer(CamelContext context, Checks checks) {
        this.context = context;
        this.checks = checks;
    }

    @Override
    public Reply answer(HttpExchange request) {
        String level = Answer.parameter(request, "exposureLevel");
        if (level == null) {
            level = HealthCheckRegistry.get(context).getExposureLevel();
        }
        String stackTrace = Answer.parameter(request, "stackTrace");
        String data = Answer.parameter(request, "data");
        Collection<HealthCheck.Result> results = switch (checks) {
            case ALL -> HealthCheckHelper.invoke(context, level);
            case LIVENESS -> HealthCheckHelper.invokeLiveness(context, level);
            case READINESS -> HealthCheckHelper.invokeReadiness(context, level);
        };
        boolean up = HealthCheckHelper.isResultsUp(results, checks == Checks.READINESS);
        JsonObject root = new JsonObject();
        root.put("status", up ? "UP" : "DOWN");
        if (!"oneline".equals(level)) {
            List<HealthCheck.Result> shown = "full".equals(level) ? new ArrayList<>(results)
                    : results.stream().filter(result -> result.getState() == HealthCheck.State.DOWN).toList();
            if (!shown.isEmpty()) {
                JsonArray list = new JsonArray();
                root.put("checks", list);
                for (HealthCheck.Result result : shown) {
                    list.add(describe(result, level, stackTrace, data));
                }
            }
        }
        return Reply.json(up ? 200 : 503, root.toJson());
    }

    // Camel escaped the texts before its JSON writer escaped them again; kept, for the readers of the old answers
    private static JsonObject describe(HealthCheck.Result result, String level, String stackTrace, String data) {
        JsonObject check = new JsonObject();
        check.put("name", result.getCheck().getId());
        check.put("status", result.getState().name());
        if (("full".equals(level) || "true".equals(stackTrace)) && result.getError().isPresent()) {
            check.put("error-message", Jsoner.escape(causes(result.getError().get())));
            if ("true".equals(stackTrace)) {
                check.put("error-stacktrace", Jsoner.escape(stackTrace(result.getError().get())));
            }
        }
        result.getMessage().ifPresent(message -> check.put("message", Jsoner.escape(message)));
        Map<String, Object> details = result.getDetails();
        if ("true".equals(data) && details != null && !details.isEmpty()) {
            JsonObject values = new JsonObject();
            check.put("data", values);
            for (String key : new TreeSet<>(details.keySet())) {
                Object value = details.get(key);
                values.put(key, value == null ? "" : value);
            }
        }
        return check;
    }

    private static String causes(Throwable error) {
        StringBuilder text = new StringBuilder(String.valueOf(error.getMessage()));
        for (Throwable cause = error.getCause(); cause != null; cause = cause.getCause()) {
            if (cause.getMessage() != null) {
                text.append("; Caused by: ").append(ObjectHelper.classCanonicalName(cause)).append(": ")
                        .append(cause.getMessage());
            }
        }
        return text.toString();
    }

    private static String stackTrace(Throwable error) {
        return ExceptionHelper.stackTraceToString(error).replace('"', '\'').replace('\t', ' ')
                .replace(System.lineSeparator(), " ");
    }
}
