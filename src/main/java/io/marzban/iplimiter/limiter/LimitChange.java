package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.marzban.iplimiter.management.Reply;
import java.io.IOException;

/**
 * {@code PUT /observe/limiter/users/{name}/limit} with {@code {"limit": 3}} or {@code {"limit": "exempt"}} sets a
 * user's limit live; {@code DELETE} gives it back its USER_LIMITS_FILE or IP_LIMIT one. Only with
 * MANAGEMENT_AUTH_FILE: every change is logged with the management user who made it, and without authentication
 * there is no one to name (nor would a change be safe from any local process). A PUT must be JSON, so that a
 * browser's page from elsewhere cannot send one without a CORS preflight, which this server never grants.
 */
public record LimitChange(UserLimits limits, boolean authenticated) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 1024;

    Reply answer(HttpExchange request, String user) throws JsonProcessingException {
        String method = request.getRequestMethod();
        if (!"PUT".equals(method) && !"DELETE".equals(method)) {
            request.getResponseHeaders().set("Allow", "PUT, DELETE");
            return Reply.empty(405);
        }
        if (!authenticated || request.getPrincipal() == null) {
            return Reply.text(403, "text/plain; charset=utf-8", "changing limits needs MANAGEMENT_AUTH_FILE: every "
                    + "change is logged with who made it\n");
        }
        String by = request.getPrincipal().getUsername() + " (management API from "
                + request.getRemoteAddress().getAddress().getHostAddress() + ")";
        if ("DELETE".equals(method)) {
            limits.clear(user, by);
            return answer(user);
        }
        String type = request.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith(Reply.JSON)) {
            return Reply.text(415, "text/plain; charset=utf-8", "send the limit as application/json, "
                    + "{\"limit\": 3} or {\"limit\": \"exempt\"}\n");
        }
        Limit limit;
        try {
            JsonNode body = JSON.readTree(request.getRequestBody().readNBytes(MAX_BODY));
            limit = Limit.parse(body.path("limit").asText(""));
        } catch (IOException | IllegalArgumentException e) {
            return Reply.text(400, "text/plain; charset=utf-8", "expected {\"limit\": 3} or {\"limit\": \"exempt\"}: "
                    + e.getMessage() + "\n");
        }
        limits.set(user, limit, by);
        return answer(user);
    }

    private Reply answer(String user) throws JsonProcessingException {
        return new Reply(200, Reply.JSON, JSON.writeValueAsBytes(limits.describe(user)));
    }
}
