package io.marzban.iplimiter.agent.parse;

/** What parsing one access-log line gives: an event to ship, or the reason the line is skipped. */
public sealed interface ParsedLine permits ConnectionEvent, SkipReason {
}
