package io.marzban.iplimiter.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.marzban.iplimiter.config.RedisEndpoint;
import io.marzban.iplimiter.redis.CentralRedis;
import io.marzban.iplimiter.support.RedisServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** Users keyed by the panel's id, named by their usernames: what the events and the panel told, in a real Redis. */
class UserNamesTest {

    @TempDir
    Path dir;

    @Test
    void anOperatorNamesAUserByItsUsernameOrItsId() throws Exception {
        try (RedisServer redis = RedisServer.start(dir); Jedis jedis = redis.client();
             CentralRedis central = new CentralRedis(new RedisEndpoint("127.0.0.1", redis.port(), false, null, null, 0),
                     null, "test", 5_000, Events.QUEUE)) {
            for (int id = 1; id <= 3000; id++) {
                jedis.hset(Events.KEYS.names(), Integer.toString(id), "user" + id); // more than one HSCAN page
            }
            jedis.hset(Events.KEYS.names(), "4017", "maria");
            UserNames names = new UserNames(central, Events.KEYS);

            assertEquals("4017", names.keyOf("Maria"), "the id the events gave for that username, case aside");
            assertEquals("5042", names.keyOf("5042"), "an id is a key already");
            assertEquals("bob", names.keyOf("bob"), "a user the events named by username alone");
            assertEquals("maria", names.ref("4017").name());
            assertEquals("maria (id 4017)", names.ref("4017").toString());
            assertNull(names.ref("5042").username(), "PasarGuard 5: no username until the panel is asked");
            assertEquals("id 5042", names.ref("5042").toString());
        }
    }
}
