package dev.apiary.iscsi.portal;

import static dev.apiary.iscsi.portal.Hostile.CLOSE_SOON;
import static dev.apiary.iscsi.portal.Hostile.HOSTILE;
import static dev.apiary.iscsi.portal.Hostile.IDENTIFY;
import static dev.apiary.iscsi.portal.Hostile.ascii;
import static dev.apiary.iscsi.portal.Hostile.assertAbortedCommand;
import static dev.apiary.iscsi.portal.Hostile.assertUsable;
import static dev.apiary.iscsi.portal.Hostile.concat;
import static dev.apiary.iscsi.portal.Hostile.nopOut;
import static dev.apiary.iscsi.portal.Hostile.startWrite;
import static dev.apiary.iscsi.portal.TargetFixture.IDLE_SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.Login;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.ScsiResult;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A hostile or broken peer in full feature phase must cost the target one connection at most.
 * Every case runs while a healthy session keeps writing and reading back on another connection
 * ({@link HealthyWorker}), and ends by checking that session is still healthy. Login-phase cases
 * are in {@link HostileLoginTest}.
 */
@Timeout(30)
class HostileInputTest extends HostileSessionCase {
    @Test
    void malformedHeaderInFullFeatureIsRejected() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            byte[] h = new byte[Pdu.BHS];
            new Random(9).nextBytes(h);
            h[0] = 0x3e;
            h[4] = h[5] = h[6] = h[7] = 0;
            ini.sendRaw(h);
            Pdu reject = ini.next();
            assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
            assertThat(reject.u8(2)).as("Command not supported").isEqualTo(0x05);
            assertThat(reject.data()).isEqualTo(h);
            assertUsable(ini);
        }
    }

    @Test
    void unknownOpcodeInFullFeatureIsRejectedWithItsHeader() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            for (int opcode : new int[] {0x1c, Pdu.SCSI_RESPONSE}) {
                Pdu p = Pdu.of(opcode, false).set8(1, 0x80).set32(16, ini.newItt()).set32(24, ini.cmdSn())
                        .set32(28, ini.expStatSn()).withData(ascii("12345678"));
                ini.send(p);
                Pdu reject = ini.next();
                assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
                assertThat(reject.u8(2)).isEqualTo(0x05);
                assertThat(reject.itt()).isEqualTo(Pdu.RESERVED);
                assertThat(reject.data()).isEqualTo(Arrays.copyOf(p.encode(), Pdu.BHS));
            }
            assertUsable(ini);
        }
    }

    @Test
    void dataSegmentShorterThanDeclaredThenCloseFreesTheSession() throws IOException {
        TestInitiator ini = target.loggedIn(HOSTILE);
        long isid = ini.isid();
        assertThat(target.hasSession(HOSTILE, isid)).isTrue();
        byte[] whole = nopOut(ini, new byte[100]).encode();
        ini.sendRaw(Arrays.copyOf(whole, Pdu.BHS + 10));
        ini.close();
        await().atMost(CLOSE_SOON).until(() -> !target.hasSession(HOSTILE, isid));
    }

    @Test
    void dataSegmentOverMaxRecvDataSegmentLengthIsRejectedAndDropped() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            assertThat(ini.negotiated().targetMaxRecv()).isEqualTo(262144);
            byte[] h = nopOut(ini, null).header();
            h[5] = (byte) (300000 >>> 16);
            h[6] = (byte) (300000 >>> 8);
            h[7] = (byte) 300000;
            ini.sendRaw(concat(h, new byte[1000]));
            Pdu reject = ini.next();
            assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
            assertThat(reject.u8(2)).as("Protocol Error").isEqualTo(0x04);
            assertThat(reject.data()).isEqualTo(h);
            assertThat(ini.awaitClosed(CLOSE_SOON)).isTrue();
        }
    }

    @Test
    void commandOutsideTheCommandWindowIsIgnored() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            int next = ini.cmdSn();
            assertThat(ini.expCmdSn()).isEqualTo(next);
            ini.cmdSn(ini.maxCmdSn() + 1);
            ini.sendCommand(Cdbs.lun(0), Cdbs.testUnitReady(), null, 0, false, false, false);
            ini.cmdSn(next - 1);
            ini.sendCommand(Cdbs.lun(0), Cdbs.testUnitReady(), null, 0, false, false, false);
            ini.cmdSn(next);
            assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
            assertThat(ini.expCmdSn()).isEqualTo(next + 1);
            assertUsable(ini);
        }
    }

    @Test
    void connectionStalledMidHeaderInFullFeatureIsClosed() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            ini.sendRaw(Arrays.copyOf(nopOut(ini, null).encode(), 20));
            assertThat(ini.awaitClosed(Duration.ofSeconds(IDLE_SECONDS * 3L))).isTrue();
        }
    }

    @Test
    void idleSessionThatAnswersPingsStaysUp() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            ini.readTimeout(Duration.ofMillis(250));
            long end = System.nanoTime() + Duration.ofSeconds(IDLE_SECONDS * 2L + 1).toNanos();
            for (int i = 0; i < 100 && System.nanoTime() < end; i++) {
                try {
                    Pdu p = ini.next();
                    throw new AssertionError("unexpected " + p);
                } catch (SocketTimeoutException e) {
                    // nothing but pings, answered inside next()
                }
            }
            ini.readTimeout(Duration.ofSeconds(5));
            assertThat(ini.pingsAnswered()).isPositive();
            assertUsable(ini);
        }
    }

    @Test
    void snackAtErrorRecoveryLevelZeroIsRejected() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            Pdu snack = Pdu.of(Pdu.SNACK, false).set8(1, 0x80).set32(16, 0x77).set32(20, Pdu.RESERVED)
                    .set32(28, ini.expStatSn()).set32(40, 0).set32(44, 0);
            ini.send(snack);
            Pdu reject = ini.next();
            assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
            assertThat(reject.u8(2)).isIn(0x04, 0x05);
            assertThat(reject.data()).isEqualTo(Arrays.copyOf(snack.encode(), Pdu.BHS));
            assertUsable(ini);
        }
    }

    @Test
    void loginRequestInFullFeatureIsRejected() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            ini.send(Login.request(ini, true, false, Login.SECURITY, Login.OPERATIONAL, IDENTIFY));
            Pdu reject = ini.next();
            assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
            assertThat(reject.u8(2)).isEqualTo(0x04);
            assertUsable(ini);
        }
    }

    @Test
    void dataOutWithWrongDataSnAbortsTheCommand() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            byte[] zeros = new byte[4096];
            assertThat(ini.write10(Cdbs.lun(0), 2048, zeros).good()).isTrue();
            int itt = ini.newItt();
            Pdu r2t = startWrite(ini, 2048, itt);
            byte[] junk = new byte[4096];
            Arrays.fill(junk, (byte) 0x5a);
            ini.sendDataOut(Cdbs.lun(0), itt, r2t.ttt(), 7, 0, junk, true);
            assertAbortedCommand(ini.next(), itt);
            ScsiResult r = ini.read10(Cdbs.lun(0), 2048, 8);
            assertThat(r.data()).as("nothing of the aborted write reached the disk").isEqualTo(zeros);
            assertUsable(ini);
        }
    }

    @Test
    void dataOutBeyondTheR2tAbortsTheCommand() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            int itt = ini.newItt();
            Pdu r2t = startWrite(ini, 2100, itt);
            ini.sendDataOut(Cdbs.lun(0), itt, r2t.ttt(), 0, 0, new byte[4608], true);
            assertAbortedCommand(ini.next(), itt);
            assertUsable(ini);
        }
    }

    @Test
    void dataOutForAnUnknownTaskIsIgnored() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            ini.sendDataOut(Cdbs.lun(0), 0x7777, 0x1234, 0, 0, new byte[512], true);
            ini.sendDataOut(Cdbs.lun(0), 0x7778, Pdu.RESERVED, 0, 0, new byte[512], true);
            assertUsable(ini);
        }
    }

    @Test
    void unsolicitedDataOutWhenInitialR2tIsYesAbortsTheCommand() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            int itt = ini.newItt();
            startWrite(ini, 2400, itt);
            ini.sendDataOut(Cdbs.lun(0), itt, Pdu.RESERVED, 0, 0, new byte[4096], true);
            assertAbortedCommand(ini.next(), itt);
            assertUsable(ini);
        }
    }

    @Test
    void reusedTaskTagIsRejectedAndTheFirstTaskStillCompletes() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            int itt = ini.newItt();
            Pdu r2t = startWrite(ini, 2200, itt);
            Pdu dup = Pdu.of(Pdu.SCSI_COMMAND, false).set8(1, 0x81).set64(8, Cdbs.lun(0)).set32(16, itt)
                    .set32(24, ini.cmdSn()).set32(28, ini.expStatSn()).setBytes(32, Cdbs.testUnitReady());
            ini.send(dup);
            ini.cmdSn(ini.cmdSn() + 1);
            Pdu reject = ini.next();
            assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
            assertThat(reject.u8(2)).as("Task in progress").isEqualTo(0x07);
            byte[] data = new byte[4096];
            new Random(5).nextBytes(data);
            ini.sendDataOut(Cdbs.lun(0), itt, r2t.ttt(), 0, 0, data, true);
            Pdu resp = ini.next();
            assertThat(resp.opcode()).isEqualTo(Pdu.SCSI_RESPONSE);
            assertThat(resp.u8(3)).isZero();
            assertThat(ini.read10(Cdbs.lun(0), 2200, 8).data()).isEqualTo(data);
            assertUsable(ini);
        }
    }

    @Test
    void immediateDataBeyondFirstBurstLengthIsRejected() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            int itt = ini.newItt();
            int length = 65536 + 4096;
            ini.send(Pdu.of(Pdu.SCSI_COMMAND, false).set8(1, 0xa1).set64(8, Cdbs.lun(0)).set32(16, itt)
                    .set32(20, length).set32(24, ini.cmdSn()).set32(28, ini.expStatSn())
                    .setBytes(32, Arrays.copyOf(Cdbs.write10(2300, length / 512), 16)).withData(new byte[length]));
            ini.cmdSn(ini.cmdSn() + 1);
            Pdu reject = ini.next();
            assertThat(reject.opcode()).isEqualTo(Pdu.REJECT);
            assertThat(reject.u8(2)).isEqualTo(0x04);
            assertThat(new Pdu(Arrays.copyOf(reject.data(), Pdu.BHS), null).itt()).isEqualTo(itt);
            assertUsable(ini);
        }
    }

    /**
     * Immediate commands bypass the CmdSN window (§3.2.2.1), so nothing but the target's own bound
     * stops an initiator from opening tasks; each WRITE's buffer (up to 32 MiB) is allocated before
     * any data arrives. The target should refuse tasks beyond its queue depth (TASK SET FULL, BUSY,
     * or Reject "Immediate Command Rejected") rather than pin memory for all of them.
     */
    @Test
    void immediateCommandsCannotPinUnboundedBuffers() throws IOException {
        int queueDepth = 64;
        int sent = queueDepth + 16;
        int r2ts = 0;
        int refused = 0;
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            for (int i = 0; i < sent; i++) {
                ini.send(Pdu.of(Pdu.SCSI_COMMAND, true).set8(1, 0xa1).set64(8, Cdbs.lun(0)).set32(16, ini.newItt())
                        .set32(20, 1 << 20).set32(24, ini.cmdSn()).set32(28, ini.expStatSn())
                        .setBytes(32, Arrays.copyOf(Cdbs.write10(0, 2048), 16)));
            }
            ini.readTimeout(Duration.ofMillis(1500));
            for (int i = 0; i < sent; i++) {
                Pdu p;
                try {
                    p = ini.next();
                } catch (SocketTimeoutException e) {
                    break;
                }
                if (p.opcode() == Pdu.R2T) {
                    r2ts++;
                } else {
                    refused++;
                }
            }
        }
        assertThat(r2ts).as("tasks holding a 1 MiB buffer while waiting for data (%d refused)", refused)
                .isLessThanOrEqualTo(queueDepth);
    }

    @Test
    void nopOutPingEchoesItsData() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            byte[] data = new byte[1001];
            new Random(11).nextBytes(data);
            assertThat(ini.nop(data)).isEqualTo(data);
            assertThat(ini.nop(new byte[0])).isEmpty();
        }
    }

    @Test
    void logoutIsAnsweredAndTheTargetCloses() throws IOException {
        try (TestInitiator ini = target.loggedIn(HOSTILE)) {
            long isid = ini.isid();
            assertThat(ini.logout()).isZero();
            assertThat(ini.awaitClosed(CLOSE_SOON)).isTrue();
            await().atMost(CLOSE_SOON).until(() -> !target.hasSession(HOSTILE, isid));
        }
    }
}
