package io.marzban.iplimiter.limiter.panel;

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
import io.marzban.iplimiter.support.MarzbanStandIn.Flavor;
import io.marzban.iplimiter.support.MarzneshinStandIn;
import io.marzban.iplimiter.support.PanelStandIn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/** The panel client against each panel's stand-in: detection, tokens, 401, 404, 409, 422, a panel away. */
class PanelClientTest {

    private static final long EXPIRE = 1_900_000_000L;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private PanelStandIn panel;

    @BeforeEach
    void listen() {
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        if (panel != null) {
            panel.close();
        }
    }

    private MarzbanStandIn marzban(Flavor flavor) throws Exception {
        MarzbanStandIn marzban = MarzbanStandIn.start(flavor);
        panel = marzban;
        return marzban;
    }

    private PanelClient client(PanelType type, String password) {
        return new PanelClient(new PanelSettings(type, URI.create(panel.url()), PanelStandIn.ADMIN, password, null),
                meters);
    }

    private PanelClient client() {
        return client(null, PanelStandIn.PASSWORD);
    }

    private double errors(PanelException.Kind kind) {
        return meters.get("marzban_limiter_api_errors").tag("kind", kind.name().toLowerCase()).counter().count();
    }

    /** Read, disable and restore: the user keeps its next plan and expiry, and the panel's status words are Marzban's. */
    @ParameterizedTest
    @EnumSource(Flavor.class)
    void aDisabledAndRestoredUserKeepsItsNextPlan(Flavor flavor) throws Exception {
        MarzbanStandIn marzban = marzban(flavor);
        long id = marzban.addUser("maria", "active", EXPIRE, 10_000L, 5L);
        marzban.giveNextPlan("maria");
        PanelClient client = client();

        PanelUser maria = client.user(UserRef.of(Long.toString(id), flavor == Flavor.PASARGUARD_5 ? null : "maria"));
        assertEquals("maria", maria.username());
        assertEquals(EXPIRE, maria.expire(), "epoch seconds from Marzban's number and PasarGuard's ISO date");
        assertEquals("active", maria.status());
        assertEquals("disabled", client.disable(maria).status());
        assertEquals("active", client.restore(client.user(UserRef.of(Long.toString(id), "maria")), "active").status());

        assertEquals(java.util.List.of("maria disabled", "maria active"), marzban.changes());
        assertEquals(2_592_000, marzban.user("maria").get("next_plan").get("expire").asLong(), "the next plan kept");
        assertEquals(EXPIRE, marzban.expire("maria"));
        assertEquals(Map.of(Flavor.MARZBAN, "Marzban 0.8.4", Flavor.PASARGUARD_4, "PasarGuard 4.0.2",
                Flavor.PASARGUARD_5, "PasarGuard 5.2.1").get(flavor), client.name());
    }

    /** The stand-in's trap itself: a PUT that leaves next_plan out deletes it, as Marzban 0.8.4 does. */
    @Test
    void marzbanDeletesTheNextPlanOfAPutWithoutIt() throws Exception {
        MarzbanStandIn marzban = marzban(Flavor.MARZBAN);
        marzban.addUser("maria");
        marzban.giveNextPlan("maria");
        PanelConnection connection = new PanelConnection(new PanelSettings(null, URI.create(panel.url()),
                PanelStandIn.ADMIN, PanelStandIn.PASSWORD, null), meters);
        connection.modify("PUT", "/api/user/maria", Map.of("status", "disabled"));
        assertTrue(marzban.user("maria").get("next_plan").isNull());
    }

    @Test
    void pasarGuardFiveIsToggledByIdAndResolvesTheStatusItself() throws Exception {
        MarzbanStandIn pasarGuard = marzban(Flavor.PASARGUARD_5);
        long id = pasarGuard.addUser("maria", "active", EXPIRE, 1_000L, 10L);
        PanelClient client = client();
        PanelUser maria = client.user(UserRef.of(Long.toString(id), null));
        client.disable(maria);
        pasarGuard.useTraffic("maria", 1_000L); // it used up its data meanwhile

        assertEquals("limited", client.restore(maria, "active").status(), "the panel picks limited, not active");
    }

    @Test
    void pasarGuardTakesAnApiKeyInsteadOfALogin() throws Exception {
        MarzbanStandIn pasarGuard = marzban(Flavor.PASARGUARD_5);
        long id = pasarGuard.addUser("maria");
        PanelClient client = new PanelClient(new PanelSettings(PanelType.PASARGUARD, URI.create(panel.url()), null,
                null, MarzbanStandIn.API_KEY), meters);

        assertEquals("maria", client.user(UserRef.of(Long.toString(id), null)).username());
        assertEquals(0, pasarGuard.logins());
        assertTrue(logs.list.stream().noneMatch(event -> event.getFormattedMessage().contains(MarzbanStandIn.API_KEY)));
    }

    @Test
    void marzneshinIsFoundAndSpokenToByLowerCaseName() throws Exception {
        MarzneshinStandIn marzneshin = MarzneshinStandIn.start();
        panel = marzneshin;
        long id = marzneshin.addUser("maria", "active", EXPIRE, null, 0);
        PanelClient client = client();

        PanelUser maria = client.user(UserRef.of(Long.toString(id), "Maria"));
        assertEquals("Marzneshin 0.7.4", client.name());
        assertEquals(EXPIRE, maria.expire());
        assertEquals("disabled", client.disable(maria).status());
        PanelException conflict = assertThrows(PanelException.class, () -> client.disable(maria));
        assertEquals(PanelException.Kind.CONFLICT, conflict.kind(), "409: already disabled");
        assertEquals("active", client.restore(maria, "active").status());
        assertEquals(java.util.List.of("maria disabled", "maria active"), marzneshin.changes());
    }

    @Test
    void theTokenIsCachedAndRenewedOnceWhenRejected() throws Exception {
        MarzbanStandIn marzban = marzban(Flavor.MARZBAN);
        marzban.addUser("maria");
        PanelClient client = client(PanelType.MARZBAN, PanelStandIn.PASSWORD);
        PanelUser maria = client.user(UserRef.of("maria", null));
        client.user(UserRef.of("maria", null));
        assertEquals(1, marzban.logins());

        marzban.invalidateTokens(); // the admin's password was reset, or the token expired
        assertEquals("disabled", client.disable(maria).status());
        assertEquals(2, marzban.logins());
    }

    @Test
    void aRefusedLoginIsNotRepeated() throws Exception {
        MarzbanStandIn marzban = marzban(Flavor.MARZBAN);
        PanelClient client = client(PanelType.MARZBAN, "wrong");
        PanelException first = assertThrows(PanelException.class, () -> client.user(UserRef.of("maria", null)));
        PanelException second = assertThrows(PanelException.class, () -> client.user(UserRef.of("maria", null)));

        assertEquals(PanelException.Kind.LOGIN_REFUSED, first.kind());
        assertEquals(PanelException.Kind.LOGIN_REFUSED, second.kind());
        assertTrue(first.getMessage().contains("Incorrect username or password"), first.getMessage());
        assertEquals(1, marzban.failedLogins(), "the panel alerts on every failed login");
        assertNotNull(client.problem());
    }

    @Test
    void anUnknownUserIsNotFoundAtOnce() throws Exception {
        marzban(Flavor.MARZBAN);
        PanelClient client = client();
        PanelException error = assertThrows(PanelException.class, () -> client.user(UserRef.of("nobody", null)));

        assertEquals(PanelException.Kind.NOT_FOUND, error.kind());
        assertTrue(error.getMessage().contains("User not found"), error.getMessage());
        assertEquals(1, errors(PanelException.Kind.NOT_FOUND));
        assertNull(client.problem(), "the panel answered");
    }

    @Test
    void aStatusMarzbanDoesNotAcceptIsRejected() throws Exception {
        MarzbanStandIn marzban = marzban(Flavor.MARZBAN);
        marzban.addUser("maria");
        PanelClient client = client();
        PanelUser maria = client.user(UserRef.of("maria", null));
        PanelException limited = assertThrows(PanelException.class, () -> client.restore(maria, "limited"));

        assertEquals(PanelException.Kind.REJECTED, limited.kind());
        assertTrue(limited.getMessage().contains("422"), limited.getMessage());
        assertEquals("active", marzban.status("maria"));
    }

    @Test
    void anUnreachablePanelIsAProblemUntilItAnswersAgain() throws Exception {
        MarzbanStandIn marzban = marzban(Flavor.MARZBAN);
        PanelClient client = client();
        marzban.stop();
        PanelException error = assertThrows(PanelException.class, client::probeIfIdle);
        assertEquals(PanelException.Kind.UNREACHABLE, error.kind());
        assertNotNull(client.problem());

        marzban.restart();
        client.probeIfIdle();
        assertNull(client.problem());
    }

    @Test
    void neitherThePasswordNorTheTokenIsLogged() throws Exception {
        MarzbanStandIn marzban = marzban(Flavor.MARZBAN);
        marzban.addUser("maria");
        PanelClient client = client();
        client.user(UserRef.of("maria", null));
        marzban.invalidateTokens();
        client.user(UserRef.of("maria", null));
        assertThrows(PanelException.class, () -> client.user(UserRef.of("nobody", null)));

        for (ILoggingEvent event : logs.list) {
            assertFalse(event.getFormattedMessage().contains(PanelStandIn.PASSWORD), event.getFormattedMessage());
            assertFalse(event.getFormattedMessage().contains("Bearer"), event.getFormattedMessage());
        }
    }

    @Test
    void withoutAPanelEveryCallButTheProbeFails() {
        PanelClient client = new PanelClient(null, meters);
        client.probeIfIdle();
        assertNull(client.problem());
        assertEquals(PanelException.Kind.REJECTED,
                assertThrows(PanelException.class, () -> client.user(UserRef.of("maria", null))).kind());
    }
}
