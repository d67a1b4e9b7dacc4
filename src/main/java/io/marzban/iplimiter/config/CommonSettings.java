package io.marzban.iplimiter.config;

import java.nio.file.Path;
import java.util.Properties;

/** The settings both halves have, under the same variable names and checks (docs/CONFIGURATION.md). */
public interface CommonSettings {

    RedisEndpoint centralRedis();

    RedisTls redisTls();

    /** REDIS_TIMEOUT. */
    long redisTimeoutMillis();

    /** QUEUE_KEY: the agents' list, whose hash tag every other key carries. */
    String queueKey();

    String managementHost();

    int managementPort();

    /** MANAGEMENT_AUTH_FILE, or null. */
    Path managementAuthFile();

    String logLevel();

    String logFormat();

    /** SHUTDOWN_TIMEOUT: how long a stop may take before what is left is abandoned. */
    long shutdownTimeoutMillis();

    /** Where Camel Main reads this half's YAML routes from. */
    String routesIncludePattern();

    /** The values the YAML routes refer to as {{name}}. */
    Properties toProperties();
}
