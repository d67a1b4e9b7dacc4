package io.marzban.iplimiter.agent.parse;

import java.util.ArrayList;
import java.util.List;

/** What parsing a group of lines gives: the events to ship, in file order, and how many lines were skipped, by reason. */
public final class ParsedLines {

    private static final SkipReason[] REASONS = SkipReason.values();

    private final List<ConnectionEvent> events;
    private final int[] skipped = new int[REASONS.length];

    ParsedLines(int capacity) {
        events = new ArrayList<>(capacity);
    }

    void add(ParsedLine parsed) {
        if (parsed instanceof ConnectionEvent event) {
            events.add(event);
        } else {
            skipped[((SkipReason) parsed).ordinal()]++;
        }
    }

    public List<ConnectionEvent> events() {
        return events;
    }

    public boolean hasEvents() {
        return !events.isEmpty();
    }

    public int skipped(SkipReason reason) {
        return skipped[reason.ordinal()];
    }
}
