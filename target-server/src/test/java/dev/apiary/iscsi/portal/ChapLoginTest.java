package dev.apiary.iscsi.portal;

import static dev.apiary.iscsi.portal.TargetFixture.IQN;
import static dev.apiary.iscsi.portal.TargetFixture.IQN2;
import static dev.apiary.iscsi.portal.TargetFixture.SECRET;
import static dev.apiary.iscsi.portal.TargetFixture.SECRET2;
import static dev.apiary.iscsi.portal.TargetFixture.TSECRET;
import static dev.apiary.iscsi.portal.TargetFixture.TUSER;
import static dev.apiary.iscsi.portal.TargetFixture.USER;
import static dev.apiary.iscsi.portal.TargetFixture.USER2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.Login;
import dev.apiary.iscsi.wire.LoginResult;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.ScsiResult;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** CHAP login against a live target over TCP (RFC 7143 §6.3, §12.1.3; docs/security.md). */
@Timeout(30)
class ChapLoginTest {
    static final String ADMITTED = "iqn.2025-01.dev.apiary:init-a";
    static final String STRANGER = "iqn.2025-01.dev.apiary:stranger";

    @TempDir
    static Path dir;

    static TargetFixture target;

    @BeforeAll
    static void start() throws IOException {
        target = TargetFixture.start(dir, Set.of(ADMITTED), true);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (target != null) {
            target.close();
        }
        LeakWatch.assertNoLeaks();
    }

    private static void writeAndReadBack(TestInitiator ini, long lba, long seed) throws IOException {
        byte[] data = new byte[8 * TestInitiator.BLOCK];
        new Random(seed).nextBytes(data);
        ScsiResult w = ini.write10(Cdbs.lun(0), lba, data);
        assertThat(w.good()).as("write %s", w).isTrue();
        ScsiResult r = ini.read10(Cdbs.lun(0), lba, 8);
        assertThat(r.good()).as("read %s", r).isTrue();
        assertThat(r.data()).isEqualTo(data);
    }

    /** A first Login Request built by hand, for refusals the normal login path cannot produce. */
    private static Pdu firstLogin(TestInitiator ini, boolean transit, int csg, int nsg, Map<String, String> keys)
            throws IOException {
        Pdu r = ini.loginExchange(Login.request(ini, transit, false, csg, nsg, Pdu.text(keys)));
        assertThat(r.opcode()).isEqualTo(Pdu.LOGIN_RESPONSE);
        return r;
    }

    private static int status(Pdu loginResponse) {
        return loginResponse.u8(36) << 8 | loginResponse.u8(37);
    }

    @ParameterizedTest
    @EnumSource(ChapAlgorithm.class)
    void eachChapAlgorithmLogsInAndMovesData(ChapAlgorithm alg) throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, IQN, USER, SECRET, alg, null, Map.of());
            assertThat(r.ok()).as("%s login: %s", alg, r).isTrue();
            assertThat(r.tsih()).isNotZero();
            assertThat(r.keys()).containsEntry("TargetPortalGroupTag", "1").containsEntry("CHAP_A",
                    Integer.toString(alg.code()));
            writeAndReadBack(ini, 64L * alg.ordinal(), alg.code());
        }
    }

    @Test
    void mutualChapProvesTheTarget() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.SHA3_256,
                    new Login.Credentials(TUSER, TSECRET), Map.of());
            assertThat(r.ok()).as("%s", r).isTrue();
            assertThat(r.keys()).containsEntry("CHAP_N", TUSER);
            writeAndReadBack(ini, 512, 99);
        }
    }

    @Test
    void initiatorRefusesATargetThatDoesNotKnowTheExpectedSecret() throws IOException {
        try (TestInitiator ini = target.connect()) {
            assertThatThrownBy(() -> ini.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.MD5,
                    new Login.Credentials(TUSER, "notthetargetsecret"), Map.of()))
                    .isInstanceOf(Login.MutualChapException.class);
        }
    }

    @Test
    void mutualChapWithoutTargetCredentialsIsRefused() throws IOException {
        // IQN2 has no mutual account: asking it to prove itself must fail the login, not skip the proof.
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, IQN2, USER2, SECRET2, ChapAlgorithm.SHA256,
                    new Login.Credentials(TUSER, TSECRET), Map.of());
            assertThat(r.status()).isEqualTo(0x0201);
        }
    }

    @Test
    void wrongInitiatorSecretIsAnAuthenticationFailure() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, IQN, USER, "wrongsecret1234", ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.status()).isEqualTo(0x0201);
            assertThat(ini.awaitClosed(Duration.ofSeconds(5))).as("target closes after a failed login").isTrue();
        }
    }

    @Test
    void unknownChapUserIsAnAuthenticationFailure() throws IOException {
        try (TestInitiator ini = target.connect()) {
            // USER2 is an account, but of the other target: it must not open IQN.
            LoginResult r = ini.login(ADMITTED, IQN, USER2, SECRET2, ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.status()).isEqualTo(0x0201);
        }
    }

    @Test
    void authMethodNoneOnlyIsRefused() throws IOException {
        try (TestInitiator ini = target.connect()) {
            Pdu r = firstLogin(ini, true, Login.SECURITY, Login.OPERATIONAL,
                    Map.of("InitiatorName", ADMITTED, "TargetName", IQN, "AuthMethod", "None"));
            assertThat(status(r)).isEqualTo(0x0201);
        }
    }

    @Test
    void skippingTheSecurityStageIsRefused() throws IOException {
        try (TestInitiator ini = target.connect()) {
            Map<String, String> keys = new LinkedHashMap<>();
            keys.put("InitiatorName", ADMITTED);
            keys.put("TargetName", IQN);
            keys.putAll(Login.operationalDefaults());
            Pdu r = firstLogin(ini, true, Login.OPERATIONAL, Login.FULL_FEATURE, keys);
            assertThat(status(r)).isEqualTo(0x0201);
            assertThat(r.flags() & 0x80).as("no transit").isZero();
        }
    }

    @Test
    void unsupportedChapAlgorithmIsRefused() throws IOException {
        try (TestInitiator ini = target.connect()) {
            Pdu r = firstLogin(ini, true, Login.SECURITY, Login.OPERATIONAL,
                    Map.of("InitiatorName", ADMITTED, "TargetName", IQN, "AuthMethod", "CHAP"));
            assertThat(status(r)).isZero();
            r = ini.loginExchange(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL,
                    Pdu.text(Map.of("CHAP_A", "99"))));
            assertThat(status(r)).isEqualTo(0x0201);
        }
    }

    @Test
    void unknownTargetIsNotFound() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, "iqn.2025-01.dev.apiary:nope", USER, SECRET, ChapAlgorithm.MD5, null,
                    Map.of());
            assertThat(r.status()).isEqualTo(0x0203);
        }
    }

    @Test
    void initiatorOutsideTheAclIsNotAuthorized() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(STRANGER, IQN, USER, SECRET, ChapAlgorithm.MD5, null, Map.of());
            assertThat(r.status()).isEqualTo(0x0202);
        }
    }

    private static List<String> targetNames(List<Map.Entry<String, String>> pairs) {
        return pairs.stream().filter(e -> e.getKey().equals("TargetName")).map(Map.Entry::getValue).toList();
    }

    @Test
    void discoveryListsOnlyTheTargetsAnInitiatorMayUse() throws IOException {
        // The admitted initiator with IQN's account sees IQN at this portal, and nothing else.
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, null, USER, SECRET, ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.ok()).as("%s", r).isTrue();
            List<Map.Entry<String, String>> st = ini.textSendTargets();
            assertThat(targetNames(st)).containsExactly(IQN);
            assertThat(st).contains(Map.entry("TargetAddress", "127.0.0.1:" + target.port() + ",1"));
            assertThat(ini.logout()).isZero();
        }
        // A stranger proving IQN's account learns nothing: the login fails or lists no target.
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(STRANGER, null, USER, SECRET, ChapAlgorithm.SHA256, null, Map.of());
            if (r.ok()) {
                assertThat(targetNames(ini.textSendTargets())).isEmpty();
            } else {
                assertThat(r.status()).isEqualTo(0x0201);
            }
        }
        // A stranger with an account of the open target sees that target, never the ACL'd one.
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(STRANGER, null, USER2, SECRET2, ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.ok()).as("%s", r).isTrue();
            assertThat(targetNames(ini.textSendTargets())).containsExactly(IQN2);
        }
    }

    @Test
    void discoverySessionRefusesScsiCommands() throws IOException {
        try (TestInitiator ini = target.connect()) {
            assertThat(ini.login(ADMITTED, null, USER, SECRET, ChapAlgorithm.MD5, null, Map.of()).ok()).isTrue();
            ScsiResult r = ini.testUnitReady(Cdbs.lun(0));
            assertThat(r.status()).as("a discovery session carries no SCSI (§4.3)").isEqualTo(-1);
        }
    }

    @Test
    void reflectedChallengeIsRefused() throws IOException {
        try (TestInitiator ini = target.connect()) {
            LoginResult r = ini.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.SHA256,
                    new Login.Credentials(TUSER, TSECRET), Map.of(), new Login.Options(true));
            assertThat(r.status()).isEqualTo(0x0201);
            assertThat(r.keys()).doesNotContainKey("CHAP_R");
        }
    }

    @Test
    void sameInitiatorPortReinstatesTheSession() throws IOException {
        long isid = 0x80_1234_5678_9aL;
        try (TestInitiator first = target.loggedInWithIsid(ADMITTED, isid);
                TestInitiator second = target.connect().isid(isid)) {
            writeAndReadBack(first, 900, 1);
            LoginResult r = second.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.SHA1, null, Map.of());
            assertThat(r.ok()).as("%s", r).isTrue();
            assertThat(first.awaitClosed(Duration.ofSeconds(5))).as("old connection closed by the target").isTrue();
            writeAndReadBack(second, 900, 2);
            assertThat(target.hasSession(ADMITTED, isid)).isTrue();
        }
    }

    @Test
    void loginListenersHearEachSessionAndNoFailedLogin() throws IOException {
        long isid = 0x80_0bad_0bad_02L;
        List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        target.server.sessions().onLogin(s -> {
            if (s.isid() == isid) {
                told.add(s.initiatorName() + " " + s.targetName());
            }
        });
        try (TestInitiator first = target.loggedInWithIsid(ADMITTED, isid);
                TestInitiator forger = target.connect().isid(isid)) {
            assertThat(forger.login(ADMITTED, IQN, USER, "notthesecret123", ChapAlgorithm.SHA256, null, Map.of())
                    .status()).isEqualTo(0x0201);
            writeAndReadBack(first, 1100, 4);
        }
        assertThat(told).containsExactly(ADMITTED + " " + IQN);
    }

    @Test
    void failedLoginDoesNotReinstateTheSession() throws IOException {
        long isid = 0x80_0bad_0bad_01L;
        try (TestInitiator first = target.loggedInWithIsid(ADMITTED, isid);
                TestInitiator forger = target.connect().isid(isid)) {
            LoginResult r = forger.login(ADMITTED, IQN, USER, "notthesecret123", ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.status()).isEqualTo(0x0201);
            writeAndReadBack(first, 1000, 3);
        }
    }

    @Test
    void secondConnectionToASessionIsTooManyConnections() throws IOException {
        long isid = 0x80_5e55_1011_02L;
        try (TestInitiator first = target.connect().isid(isid)) {
            LoginResult r1 = first.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r1.ok()).isTrue();
            try (TestInitiator second = target.connect().isid(isid).tsih(r1.tsih())) {
                LoginResult r2 = second.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.SHA256, null, Map.of());
                assertThat(r2.status()).as("MaxConnections=1 (§13.2)").isEqualTo(0x0206);
            }
            writeAndReadBack(first, 1100, 4);
        }
    }

    @Test
    void connectionForAnUnknownSessionIsRefused() throws IOException {
        try (TestInitiator ini = target.connect().tsih(0x7777)) {
            LoginResult r = ini.login(ADMITTED, IQN, USER, SECRET, ChapAlgorithm.SHA256, null, Map.of());
            assertThat(r.status()).isEqualTo(0x020a);
        }
    }

    @Test
    void targetSecretMustNotAlsoAuthenticateInitiators() {
        // RFC 7143 §12.1.3: "Any CHAP secret used for initiator authentication MUST NOT be configured
        // for authentication of any target" (and vice versa).
        LunMap luns = target.server.exports().target(IQN).orElseThrow().luns();
        assertThatThrownBy(() -> new TargetExport("iqn.2025-01.dev.apiary:same-secret", luns,
                List.of(new ChapCredentials(USER, ChapSecret.of(SECRET))),
                Optional.of(new ChapCredentials(TUSER, ChapSecret.of(SECRET))), Set.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
