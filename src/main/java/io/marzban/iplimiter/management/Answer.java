package io.marzban.iplimiter.management;

import com.sun.net.httpserver.HttpExchange;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one path of the management server answers. The server has matched the path and the method and checked the
 * credentials before; it writes the reply, and answers 500 to an exception.
 */
@FunctionalInterface
public interface Answer {

    Reply answer(HttpExchange request) throws Exception;

    /** The query parameters of the request, decoded, each with all its values in order. */
    static Map<String, String[]> parameters(HttpExchange request) {
        String query = request.getRequestURI().getRawQuery();
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int equals = pair.indexOf('=');
                String name = decode(equals < 0 ? pair : pair.substring(0, equals));
                values.computeIfAbsent(name, key -> new ArrayList<>())
                        .add(equals < 0 ? "" : decode(pair.substring(equals + 1)));
            }
        }
        Map<String, String[]> parameters = new LinkedHashMap<>();
        values.forEach((name, list) -> parameters.put(name, list.toArray(String[]::new)));
        return parameters;
    }

    /** The first value of query parameter {@code name}, or null. */
    static String parameter(HttpExchange request, String name) {
        String[] values = parameters(request).get(name);
        return values == null ? null : values[0];
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }
}
