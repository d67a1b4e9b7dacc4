package io.marzban.iplimiter.redis;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.RedisTls;
import java.io.Closeable;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The one long-lived connection to the central Redis. Commands run one at a time; a connection that failed, or
 * reached a server that is no longer the master of the queue's keys, is dropped and the next command opens a new
 * one where {@link MasterLocator} says: a Redis restart, a sentinel failover or a moved slot need nothing but a
 * retry.
 */
public final class CentralRedis implements Closeable {

    /** Health checks ping an idle connection this long after its last command. */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** Replies that mean this server no longer holds the queue's keys as master: ask where they went. */
    private static final List<String> WRONG_SERVER = List.of("READONLY", "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN",
            "MASTERDOWN", "LOADING");
    private static final Logger LOG = LoggerFactory.getLogger(CentralRedis.class);

    private final RedisEndpoint endpoint;
    private final DefaultJedisClientConfig config;
    private final MasterLocator locator;
    private final ReentrantLock lock = new ReentrantLock();
    private Jedis connection;
    /** The server the connection goes (or last went) to; null before the first. */
    private volatile HostAndPort server;
    /** Connections opened so far: a new one may reach a server holding other data (a promoted replica). */
    private volatile long connectionsOpened;
    private volatile long lastCommandNanos = System.nanoTime();
    /** Why the last command failed; null when it succeeded. */
    private volatile String lastFailure = "not connected yet";

    /**
     * @param tls      how to talk TLS to a {@code rediss} endpoint; null for {@code redis}
     * @param queueKey the agents' queue, whose hash tag every key carries: in a cluster, its slot's owner is the
     *                 one server connected to
     */
    public CentralRedis(RedisEndpoint endpoint, RedisTls tls, String clientName, int timeoutMillis, String queueKey) {
        this.endpoint = endpoint;
        this.config = config(tls, timeoutMillis).user(endpoint.user()).password(endpoint.password())
                .database(endpoint.database()).clientName(clientName).build();
        this.locator = new MasterLocator(endpoint, config(tls, timeoutMillis).password(endpoint.sentinelPassword())
                .build(), config, queueKey);
    }

    private static DefaultJedisClientConfig.Builder config(RedisTls tls, int timeoutMillis) {
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMillis)
                .socketTimeoutMillis(timeoutMillis);
        if (tls != null) {
            config.ssl(true).sslSocketFactory(tls.socketFactory()).sslParameters(sslParameters(tls.verifyHostName()));
        }
        return config;
    }

    /** Unless told otherwise the certificate must name the host we connect to (Jedis does not check that). */
    private static SSLParameters sslParameters(boolean verifyHostName) {
        SSLParameters parameters = new SSLParameters();
        if (verifyHostName) {
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
        }
        return parameters;
    }

    /** Runs {@code commands} on the connection, opening it first if needed. */
    public <T> T call(Function<Jedis, T> commands) {
        lock.lock();
        try {
            return run(commands);
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code commands} if the connection is free now; null if it is busy or the command failed. */
    public <T> T tryCall(Function<Jedis, T> commands) {
        if (!lock.tryLock()) {
            return null;
        }
        try {
            return run(commands);
        } catch (CentralRedisException e) {
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Why the central Redis cannot be used now, or null if it can. An idle connection is pinged; a busy one is
     * never waited for (its own outcome will tell), so a health check always answers at once.
     */
    public String problem() {
        if (System.nanoTime() - lastCommandNanos > IDLE_NANOS && lock.tryLock()) {
            try {
                run(Jedis::ping);
            } catch (CentralRedisException e) {
                // recorded in lastFailure
            } finally {
                lock.unlock();
            }
        }
        return lastFailure;
    }

    private <T> T run(Function<Jedis, T> commands) {
        try {
            if (connection == null) {
                connect();
            }
            T result = commands.apply(connection);
            lastFailure = null;
            return result;
        } catch (JedisDataException e) {
            if (wrongServer(e)) {
                // a demoted master, a moved slot: the next command asks the sentinels or the cluster again
                drop();
                CentralRedisException failure = new CentralRedisException(this.toString(), e);
                lastFailure = failure.getMessage();
                throw failure;
            }
            // Redis answered, with an error (NOPERM, WRONGTYPE, ...): it is reachable and the connection is fine
            lastFailure = null;
            throw new CentralRedisException(this.toString(), e);
        } catch (JedisException e) {
            // after any failure the connection may be mid-transaction or broken: start clean next time
            drop();
            CentralRedisException failure = new CentralRedisException(this.toString(), e);
            lastFailure = failure.getMessage();
            throw failure;
        } finally {
            lastCommandNanos = System.nanoTime();
        }
    }

    private void connect() {
        HostAndPort target = locator.locate();
        connection = new Jedis(target, config);
        connectionsOpened++;
        HostAndPort before = server;
        server = target;
        if (before != null && !before.equals(target)) {
            LOG.info("The central Redis now writes to {} of {} (was {})", target, locator.role(), before);
        }
    }

    /**
     * True for a reply that says this server is not (or no longer) where the keys are written. A redirect of a
     * command queued in MULTI makes EXEC fail with EXECABORT; Jedis attaches the queued replies as suppressed.
     */
    private static boolean wrongServer(JedisDataException e) {
        if (startsWithWrongServer(e.getMessage())) {
            return true;
        }
        for (Throwable queued : e.getSuppressed()) {
            if (startsWithWrongServer(queued.getMessage())) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWithWrongServer(String message) {
        return message != null && WRONG_SERVER.stream().anyMatch(message::startsWith);
    }

    /** Connections opened so far; a change tells a writer that the server on the other end may be another. */
    public long connectionsOpened() {
        return connectionsOpened;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            drop();
        } finally {
            lock.unlock();
        }
    }

    private void drop() {
        if (connection != null) {
            try {
                connection.close();
            } catch (RuntimeException ignored) {
                // closing a broken connection may fail too; it is gone either way
            }
            connection = null;
        }
    }

    /** The URL (no password) and, for sentinels and clusters, the server connected to now. */
    @Override
    public String toString() {
        HostAndPort current = server;
        return endpoint.topology() == RedisEndpoint.Topology.STANDALONE || current == null ? endpoint.toString()
                : endpoint + " at " + current;
    }
}
