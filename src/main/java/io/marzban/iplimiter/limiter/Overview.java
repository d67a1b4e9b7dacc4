package io.marzban.iplimiter.limiter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.marzban.iplimiter.management.Answer;
import io.marzban.iplimiter.management.Reply;
import io.marzban.iplimiter.redis.CentralRedisException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /observe/limiter/overview}: what the status page shows at each refresh, as JSON: the users over their
 * limit now (as {@link UserInspection} describes them), the latest verdicts, and this instance's counters. Bounded:
 * at most {@value #OVER_SHOWN} users and {@value #VERDICTS_SHOWN} verdicts, with the total of users over.
 */
public record Overview(UserInspection users, Verdicts verdicts, MeterRegistry meters, boolean changesAllowed,
                       Clock clock) implements Answer {

    public static final String PATH = "/observe/limiter/overview";
    static final int OVER_SHOWN = 200;
    static final int VERDICTS_SHOWN = 50;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Reply answer(HttpExchange request) throws Exception {
        Map<String, Object> overview = new LinkedHashMap<>();
        try {
            users.limits().refresh();
            overview.put("now", UserInspection.seconds(clock.millis() / 1000.0));
            overview.put("window_seconds", users.windowMillis() / 1000.0);
            overview.put("default_limit", users.limits().defaultLimit());
            overview.put("limit_changes_allowed", changesAllowed);
            overview.put("over_total", users.overCount());
            overview.put("over", users.over(OVER_SHOWN));
            overview.put("verdicts", verdicts.latest(VERDICTS_SHOWN));
        } catch (CentralRedisException e) {
            return Reply.text(503, null, String.valueOf(e.getMessage()));
        }
        overview.put("events_consumed_total", meter("marzban_limiter_events_consumed"));
        overview.put("consumer_lag_seconds", meter("marzban_limiter_consumer_lag_seconds"));
        overview.put("users_tracked", meter("marzban_limiter_users_tracked"));
        return new Reply(200, Reply.JSON, JSON.writeValueAsBytes(overview));
    }

    private double meter(String name) {
        Search search = meters.find(name);
        return search.counter() != null ? search.counter().count()
                : search.gauge() != null ? search.gauge().value() : 0;
    }
}
