package dev.apiary.iscsi.portal;

import static dev.apiary.iscsi.portal.Hostile.CLOSE_SOON;
import static dev.apiary.iscsi.portal.Hostile.IDENTIFY;
import static dev.apiary.iscsi.portal.Hostile.ascii;
import static dev.apiary.iscsi.portal.Hostile.concat;
import static dev.apiary.iscsi.portal.Hostile.firstLoginStatus;
import static dev.apiary.iscsi.portal.TargetFixture.IDLE_SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.Login;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile input before login completes (RFC 7143 §6): malformed framing, bad login text, stalls.
 * As in {@link HostileInputTest}, a healthy session keeps working on another connection throughout.
 */
@Timeout(30)
class HostileLoginTest extends HostileSessionCase {
    @Test
    void malformedHeaderBeforeLoginDropsTheConnection() throws IOException {
        byte[] h = new byte[Pdu.BHS];
        new Random(7).nextBytes(h);
        h[0] = 0x3e;
        h[4] = h[5] = h[6] = h[7] = 0;
        try (TestInitiator ini = target.connect()) {
            ini.sendRaw(h);
            assertThat(ini.awaitClosed(CLOSE_SOON)).isTrue();
        }
        new Random(8).nextBytes(h);
        h[0] = 0x3e;
        try (TestInitiator ini = target.connect()) {
            ini.sendRaw(h); // whatever lengths it declares, the target must not wait long for them
            assertThat(ini.awaitClosed(Duration.ofSeconds(IDLE_SECONDS * 3L))).isTrue();
        }
    }

    @Test
    void scsiCommandBeforeLoginDropsTheConnection() throws IOException {
        try (TestInitiator ini = target.connect()) {
            ini.sendCommand(Cdbs.lun(0), Cdbs.read10(0, 1), null, 512, true, false, false);
            assertThat(ini.awaitClosed(CLOSE_SOON)).isTrue();
        }
    }

    @Test
    void loginDataOverEightKilobytesIsDropped() throws IOException {
        byte[] pad = new byte[9000 - IDENTIFY.length - 7];
        Arrays.fill(pad, (byte) 'a');
        byte[] text = concat(IDENTIFY, ascii("X-pad="), pad, new byte[1]);
        assertThat(text.length).isEqualTo(9000);
        try (TestInitiator ini = target.connect()) {
            try {
                ini.send(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL, text));
                Pdu r = ini.readRaw();
                assertThat(r.opcode() == Pdu.LOGIN_RESPONSE && r.u8(36) == 0).as("accepted %s", r).isFalse();
            } catch (IOException e) {
                // the target may close before answering: that is a fine answer
            }
            assertThat(ini.awaitClosed(CLOSE_SOON)).isTrue();
        }
    }

    @Test
    void loginTextWithoutTrailingNulIsAnInitiatorError() throws IOException {
        assertThat(firstLoginStatus(target, concat(IDENTIFY, ascii("AuthMethod=CHAP")))).isEqualTo(0x0200);
    }

    @Test
    void duplicateKeyInLoginTextIsAnInitiatorError() throws IOException {
        assertThat(firstLoginStatus(target, concat(IDENTIFY, ascii("AuthMethod=CHAP\0AuthMethod=CHAP\0")))).isEqualTo(0x0200);
    }

    @Test
    void keyNameOverSixtyThreeBytesIsAnInitiatorError() throws IOException {
        String name63 = "X-" + "k".repeat(61);
        try (TestInitiator ini = target.connect()) {
            Pdu r = ini.loginExchange(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL,
                    concat(IDENTIFY, ascii("AuthMethod=CHAP\0" + name63 + "=v\0"))));
            assertThat(r.u8(36)).as("a 63-byte key name is legal").isZero();
            assertThat(Pdu.keys(r.data())).containsEntry(name63, "NotUnderstood");
        }
        assertThat(firstLoginStatus(target, concat(IDENTIFY, ascii(name63 + "k=v\0")))).isEqualTo(0x0200);
    }

    @Test
    void valueOverEightKilobytesAcrossContinuedPdusIsAnInitiatorError() throws IOException {
        for (int valueLength : new int[] {8192, 8193}) {
            try (TestInitiator ini = target.connect()) {
                byte[] all = concat(IDENTIFY, ascii("AuthMethod=CHAP\0X-big="), "a".repeat(valueLength).getBytes(
                        StandardCharsets.US_ASCII), new byte[1]);
                int cut = 6000;
                Pdu r = ini.loginExchange(Login.request(ini, false, true, Login.SECURITY, Login.OPERATIONAL,
                        Arrays.copyOf(all, cut)));
                assertThat(r.u8(36)).as("continued PDU accepted").isZero();
                assertThat(r.data()).as("empty response to a continued PDU").isEmpty();
                r = ini.loginExchange(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL,
                        Arrays.copyOfRange(all, cut, all.length)));
                int status = r.u8(36) << 8 | r.u8(37);
                assertThat(status).as("value of %d bytes", valueLength).isEqualTo(valueLength > 8192 ? 0x0200 : 0);
            }
        }
    }

    @Test
    void continuedLoginPduMustNotChangeTheIsid() throws IOException {
        // RFC 7143 §6.3 / §11.12.5: ISID, TSIH and CID stay the same for every request of a login.
        try (TestInitiator ini = target.connect()) {
            byte[] all = concat(IDENTIFY, ascii("AuthMethod=CHAP\0"));
            Pdu r = ini.loginExchange(Login.request(ini, false, true, Login.SECURITY, Login.OPERATIONAL,
                    Arrays.copyOf(all, 20)));
            assertThat(r.u8(36)).isZero();
            ini.isid(ini.isid() ^ 0x1);
            r = ini.loginExchange(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL,
                    Arrays.copyOfRange(all, 20, all.length)));
            assertThat(r.u8(36) << 8 | r.u8(37)).as("ISID changed mid-login").isEqualTo(0x0200);
        }
    }

    @Test
    void endlessContinuedLoginTextIsCutOff() throws IOException {
        try (TestInitiator ini = target.connect()) {
            byte[] chunk = new byte[8000];
            Arrays.fill(chunk, (byte) 'a');
            byte[] first = concat(IDENTIFY, ascii("X-v="), Arrays.copyOf(chunk, 8000 - IDENTIFY.length - 4));
            int status = 0;
            for (int i = 0; i < 20 && status == 0; i++) {
                Pdu r = ini.loginExchange(Login.request(ini, false, true, Login.SECURITY, Login.OPERATIONAL,
                        i == 0 ? first : chunk));
                status = r.u8(36) << 8 | r.u8(37);
                assertThat(i).as("text buffered before the target gave up").isLessThan(10);
            }
            assertThat(status).isEqualTo(0x0200);
            assertThat(ini.awaitClosed(CLOSE_SOON)).isTrue();
        }
    }

    @Test
    void connectionStalledMidHeaderDuringLoginIsClosed() throws IOException {
        try (TestInitiator ini = target.connect()) {
            byte[] login = Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL, IDENTIFY).encode();
            ini.sendRaw(Arrays.copyOf(login, 20));
            assertThat(ini.awaitClosed(Duration.ofSeconds(IDLE_SECONDS * 3L))).isTrue();
        }
    }

    @Test
    void loginTrickledByteByByteIsClosed() throws IOException {
        // Each byte comes sooner than idleSeconds, but no PDU ever completes: a stall all the same.
        Duration limit = Duration.ofSeconds(IDLE_SECONDS * 3L);
        try (TestInitiator ini = target.connect()) {
            byte[] login = Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL, IDENTIFY).encode();
            long start = System.nanoTime();
            boolean closed = false;
            for (int i = 0; i < Pdu.BHS - 1 && !closed; i++) {
                if (System.nanoTime() - start > limit.toNanos() + 1_000_000_000L) {
                    break;
                }
                try {
                    ini.sendRaw(new byte[] {login[i]});
                } catch (IOException e) {
                    closed = true;
                    break;
                }
                closed = ini.awaitClosed(Duration.ofMillis(IDLE_SECONDS * 400L));
            }
            assertThat(closed).as("closed within %s while trickling", limit).isTrue();
        }
    }
}
