package io.marzban.iplimiter.agent.tail;

import io.marzban.iplimiter.agent.position.FilePosition;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;

/** The tail consumers of a context's routes, looked up at each call: routes exist only once the context starts. */
final class TailsOfContext implements TailStatus {

    private final Supplier<CamelContext> context;

    TailsOfContext(Supplier<CamelContext> context) {
        this.context = context;
    }

    private List<TailStatus> tails() {
        CamelContext current = context.get();
        if (current == null) {
            return List.of();
        }
        return current.getRoutes().stream().map(Route::getConsumer).filter(TailStatus.class::isInstance)
                .map(TailStatus.class::cast).toList();
    }

    @Override
    public String problem() {
        String problems = tails().stream().map(TailStatus::problem).filter(Objects::nonNull)
                .collect(Collectors.joining("; "));
        return problems.isEmpty() ? null : problems;
    }

    @Override
    public boolean isFollowing() {
        List<TailStatus> tails = tails();
        return !tails.isEmpty() && tails.stream().allMatch(TailStatus::isFollowing);
    }

    @Override
    public long linesRead() {
        return sum(TailStatus::linesRead);
    }

    @Override
    public long linesTooLong() {
        return sum(TailStatus::linesTooLong);
    }

    @Override
    public long bytesAfter(FilePosition committed) {
        return sum(tail -> tail.bytesAfter(committed));
    }

    @Override
    public void stopReading() throws InterruptedException {
        for (TailStatus tail : tails()) {
            tail.stopReading();
        }
    }

    @Override
    public long readAgain() {
        return tails().stream().mapToLong(TailStatus::readAgain).max().orElse(0);
    }

    private long sum(ToLongFunction<TailStatus> value) {
        return tails().stream().mapToLong(value).sum();
    }
}
