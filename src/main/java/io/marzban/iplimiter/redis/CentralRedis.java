package io.marzban.iplimiter.redis;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.config.RedisTls;
import java.io.Closeable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import javax.net.ssl.SSLParameters;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The one long-lived connection to the central Redis. Commands run one at a time; a connection that failed is
 * dropped and the next command opens a new one, so a Redis restart needs nothing but a retry.
 */
public final class CentralRedis implements Closeable {

    /** Health checks ping an idle connection this long after its last command. */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final RedisEndpoint endpoint;
    private final DefaultJedisClientConfig config;
    private final ReentrantLock lock = new ReentrantLock();
    private Jedis connection;
    private volatile long lastCommandNanos = System.nanoTime();
    /** Why the last command failed; null when it succeeded. */
    private volatile String lastFailure = "not connected yet";

    /** @param tls how to talk TLS to a {@code rediss://} endpoint; null for {@code redis://} */
    public CentralRedis(RedisEndpoint endpoint, RedisTls tls, String clientName, int timeoutMillis) {
        this.endpoint = endpoint;
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .user(endpoint.user())
                .password(endpoint.password())
                .database(endpoint.database())
                .clientName(clientName)
                .connectionTimeoutMillis(timeoutMillis)
                .socketTimeoutMillis(timeoutMillis);
        if (tls != null) {
            config.ssl(true).sslSocketFactory(tls.socketFactory()).sslParameters(sslParameters(tls.verifyHostName()));
        }
        this.config = config.build();
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
                connection = new Jedis(new HostAndPort(endpoint.host(), endpoint.port()), config);
            }
            T result = commands.apply(connection);
            lastFailure = null;
            return result;
        } catch (JedisDataException e) {
            // Redis answered, with an error (NOPERM, WRONGTYPE, ...): it is reachable and the connection is fine
            lastFailure = null;
            throw new CentralRedisException(endpoint, e);
        } catch (JedisException e) {
            // after any failure the connection may be mid-transaction or broken: start clean next time
            drop();
            CentralRedisException failure = new CentralRedisException(endpoint, e);
            lastFailure = failure.getMessage();
            throw failure;
        } finally {
            lastCommandNanos = System.nanoTime();
        }
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

    @Override
    public String toString() {
        return endpoint.toString();
    }
}
