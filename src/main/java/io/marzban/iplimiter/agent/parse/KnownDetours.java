package io.marzban.iplimiter.agent.parse;

/**
 * The detours read lately. A node's lines repeat a handful of them (inbounds times outbounds), so most lines find
 * theirs here and allocate nothing for it; the events then share the same tag strings, which lets
 * {@link io.marzban.iplimiter.agent.ship.EventJson} reuse their JSON too. Entries are immutable and replaced whole: a race
 * between threads can only cost a duplicate entry.
 */
final class KnownDetours {

    private static final int SIZE = 16;
    /** Real detours are a few dozen characters; a longer one (a damaged line) is not worth keeping. */
    private static final int MAX_KEPT_LENGTH = 256;

    private final Detour[] known = new Detour[SIZE];
    private int next;

    /** The detour whose text is {@code line[start, end)}. */
    Detour of(String line, int start, int end) {
        int length = end - start;
        for (Detour detour : known) {
            if (detour != null && detour.text().length() == length
                    && line.regionMatches(start, detour.text(), 0, length)) {
                return detour;
            }
        }
        Detour read = Detour.of(line.substring(start, end));
        if (length <= MAX_KEPT_LENGTH) {
            known[next] = read;
            next = (next + 1) % SIZE;
        }
        return read;
    }
}
