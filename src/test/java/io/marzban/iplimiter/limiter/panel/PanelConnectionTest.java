package io.marzban.iplimiter.limiter.marzban;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.marzban.iplimiter.support.MarzbanStandIn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The Marzban client against the stand-in API: tokens, 401, 404, 422, an unreachable panel. */
class MarzbanApiTest {

    private MarzbanStandIn marzban;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void start() throws Exception {
        marzban = MarzbanStandIn.start();
        marzban.addUser("maria", "active", 1_900_000_000L, 10_000L, 5L);
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        marzban.close();
    }

    private MarzbanApi api(String password) {
        return new MarzbanApi(URI.create(marzban.url()), MarzbanStandIn.ADMIN, password, meters);
    }

    private double errors(MarzbanException.Kind kind) {
        return meters.get("marzban_limiter_api_errors").tag("kind", kind.name().toLowerCase()).counter().count();
    }

    @Test
    void theTokenIsCachedAndRenewedOnceWhenRejected() {
        MarzbanApi api = api(MarzbanStandIn.PASSWORD);
        MarzbanUser maria = api.user("maria");
        api.user("maria");
        assertEquals(new MarzbanUser("maria", "active", 1_900_000_000L, 10_000L, 5L, null, null), maria);
        assertEquals(1, marzban.logins());

        marzban.invalidateTokens(); // the admin's password was reset, or the token expired
        assertEquals("disabled", api.modify("maria", Map.of("status", "disabled")).status());
        assertEquals(2, marzban.logins());
    }

    @Test
    void aRefusedLoginIsNotRepeated() {
        MarzbanApi api = api("wrong");
        MarzbanException first = assertThrows(MarzbanException.class, () -> api.user("maria"));
        MarzbanException second = assertThrows(MarzbanException.class, () -> api.user("maria"));

        assertEquals(MarzbanException.Kind.LOGIN_REFUSED, first.kind());
        assertEquals(MarzbanException.Kind.LOGIN_REFUSED, second.kind());
        assertTrue(first.getMessage().contains("Incorrect username or password"), first.getMessage());
        assertEquals(1, marzban.failedLogins(), "Marzban alerts on every failed login");
        assertNotNull(api.problem());
    }

    @Test
    void anUnknownUserIsNotFoundAtOnce() {
        MarzbanApi api = api(MarzbanStandIn.PASSWORD);
        MarzbanException error = assertThrows(MarzbanException.class, () -> api.user("nobody"));

        assertEquals(MarzbanException.Kind.NOT_FOUND, error.kind());
        assertTrue(error.getMessage().contains("User not found"), error.getMessage());
        assertEquals(1, errors(MarzbanException.Kind.NOT_FOUND));
        assertNull(api.problem(), "Marzban answered");
    }

    @Test
    void aStatusMarzbanDoesNotAcceptIsRejected() {
        MarzbanApi api = api(MarzbanStandIn.PASSWORD);
        MarzbanException limited = assertThrows(MarzbanException.class,
                () -> api.modify("maria", Map.of("status", "limited")));
        MarzbanException onHold = assertThrows(MarzbanException.class,
                () -> api.modify("maria", Map.of("status", "on_hold")));

        assertEquals(MarzbanException.Kind.REJECTED, limited.kind());
        assertTrue(limited.getMessage().contains("422"), limited.getMessage());
        assertEquals(MarzbanException.Kind.REJECTED, onHold.kind());
        assertEquals("active", marzban.status("maria"));
    }

    @Test
    void anUnreachableMarzbanIsAProblemUntilItAnswersAgain() throws Exception {
        MarzbanApi api = api(MarzbanStandIn.PASSWORD);
        marzban.stop();
        MarzbanException error = assertThrows(MarzbanException.class, api::probeIfIdle);
        assertEquals(MarzbanException.Kind.UNREACHABLE, error.kind());
        assertNotNull(api.problem());

        marzban.restart();
        api.probeIfIdle();
        assertNull(api.problem());
    }

    @Test
    void neitherThePasswordNorTheTokenIsLogged() {
        MarzbanApi api = api(MarzbanStandIn.PASSWORD);
        api.user("maria");
        marzban.invalidateTokens();
        api.user("maria");
        assertThrows(MarzbanException.class, () -> api.user("nobody"));

        for (ILoggingEvent event : logs.list) {
            assertFalse(event.getFormattedMessage().contains(MarzbanStandIn.PASSWORD), event.getFormattedMessage());
            assertFalse(event.getFormattedMessage().contains("Bearer"), event.getFormattedMessage());
        }
    }
}
