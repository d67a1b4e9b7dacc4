package io.marzban.iplimiter.limiter;

import io.marzban.iplimiter.redis.KeySpace;

/**
 * Every Redis key the limiter owns, under one prefix: {@code {<QUEUE_KEY>}:limiter:}, the queue's hash tag, so
 * that in a Redis Cluster the consuming script's keys share the queue's slot (see {@link KeySpace}). The queue the
 * agents fill is named by QUEUE_KEY, not here.
 *
 * A user is keyed by the panel's user id where the node's email carries one ({@code 17} for {@code 17.maria},
 * {@code 42} for PasarGuard 5's {@code 42}), else by its username.
 *
 * <ul>
 * <li>{@code seen:<user>}: sorted set, {@code <address>@<slot>@<node name>} (the address prefixed {@code f|} when
 * forwarded) → the latest such connection, epoch seconds ({@code limiter/consume.lua})</li>
 * <li>{@code users}: sorted set, user → last-seen epoch seconds: whom the checker looks at</li>
 * <li>{@code names}: hash, user id → username, for the users keyed by the panel's id ({@link UserNames})</li>
 * <li>{@code over}: sorted set, user → epoch milliseconds since which the user is over the limit</li>
 * <li>{@code acted}: set of users whose current violation has been reported or enforced</li>
 * <li>{@code disabled:<user>}: hash, what the limiter saved before it disabled the user</li>
 * <li>{@code restores}: sorted set, user → epoch milliseconds at which to restore the user</li>
 * <li>{@code lock:<user>}: string, the instance id holding the lease to act on the user</li>
 * <li>{@code limits}: hash, user → the limit set live, as JSON {@code {"limit":"3","by":"ops","at":<epoch s>}}</li>
 * <li>{@code verdicts}: list, the latest verdicts as JSON objects, newest first, capped</li>
 * <li>{@code telegram-poller}: string, the instance id holding the lease to poll the Telegram bot</li>
 * <li>{@code heartbeats}: hash, node id → what its last heartbeat told (JSON), kept after the heartbeat expired</li>
 * <li>{@code node-alerts}: hash, {@code <notification>:<node id>} → 1 while that node's alert has been sent</li>
 * </ul>
 */
public final class LimiterKeys {

    private final KeySpace keys;

    public LimiterKeys(KeySpace keys) {
        this.keys = keys;
    }

    /** The prefix of every limiter key now. */
    public String prefix() {
        return keys.prefix() + "limiter:";
    }

    /** The prefix of the per-user observation keys; the consuming script appends the user name. */
    public String seenPrefix() {
        return prefix() + "seen:";
    }

    public String seen(String user) {
        return seenPrefix() + user;
    }

    public String users() {
        return prefix() + "users";
    }

    public String names() {
        return prefix() + "names";
    }

    public String over() {
        return prefix() + "over";
    }

    public String acted() {
        return prefix() + "acted";
    }

    public String disabled(String user) {
        return prefix() + "disabled:" + user;
    }

    public String restores() {
        return prefix() + "restores";
    }

    public String lock(String user) {
        return prefix() + "lock:" + user;
    }

    public String limits() {
        return prefix() + "limits";
    }

    public String verdicts() {
        return prefix() + "verdicts";
    }

    public String telegramPoller() {
        return prefix() + "telegram-poller";
    }

    public String heartbeats() {
        return prefix() + "heartbeats";
    }

    public String nodeAlerts() {
        return prefix() + "node-alerts";
    }
}
