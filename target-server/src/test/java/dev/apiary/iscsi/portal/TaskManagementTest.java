package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.ScsiResult;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Task management functions (RFC 7143 §11.5/§11.6, SAM-5 §7) over a real connection. */
class TaskManagementTest {
    static final int ABORT_TASK = 1, ABORT_TASK_SET = 2, CLEAR_ACA = 3, CLEAR_TASK_SET = 4, LUN_RESET = 5,
            TARGET_WARM_RESET = 6, TASK_REASSIGN = 8;
    static final int COMPLETE = 0, NO_TASK = 1, NO_LUN = 2, REASSIGN_NOT_SUPPORTED = 4, NOT_SUPPORTED = 5;

    @TempDir
    Path dir;

    TargetFixture target;
    TestInitiator ini;

    @BeforeEach
    void start() throws IOException {
        target = TargetFixture.start(dir, Set.of(), false);
        ini = target.loggedIn("iqn.2026-11.test:tmf");
        ini.sendImmediateData(false);
    }

    @AfterEach
    void stop() {
        ini.close();
        target.close();
    }

    /** An immediate TMF request; returns the response code (byte 2 of the response). */
    int tmf(int function, long lun, int referencedTag, int refCmdSn) throws IOException {
        int itt = ini.newItt();
        ini.send(Pdu.of(Pdu.TASK_MGMT, true).set8(1, 0x80 | function).set64(8, lun).set32(16, itt)
                .set32(20, referencedTag).set32(24, ini.cmdSn()).set32(28, ini.expStatSn()).set32(32, refCmdSn));
        return ini.awaitReply(itt, Pdu.TASK_MGMT_RESPONSE).u8(2);
    }

    /** A 64 KiB WRITE(10) that the target holds while it waits for the data its R2T asks for. */
    int pendingWrite(long lun) throws IOException {
        int itt = ini.sendCommand(lun, Cdbs.write10(0, 128), new byte[128 * 512], 128 * 512, false, true, false);
        Pdu r2t = ini.awaitReply(itt, Pdu.R2T);
        assertThat(r2t.i32(44)).as("desired length").isPositive();
        return itt;
    }

    @Test
    void abortTaskEndsAWriteWaitingForDataWithoutAResponseForIt() throws IOException {
        int cmdSn = ini.cmdSn();
        int itt = pendingWrite(Cdbs.lun(0));
        assertThat(tmf(ABORT_TASK, Cdbs.lun(0), itt, cmdSn)).isEqualTo(COMPLETE);
        assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
        assertThat(ini.strays()).as("no SCSI Response for the aborted task")
                .noneMatch(p -> p.opcode() == Pdu.SCSI_RESPONSE && p.itt() == itt);
    }

    @Test
    void abortOfAnUnknownTaskDependsOnWhetherItsCmdSnIsStillInTheWindow() throws IOException {
        assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
        // §11.5.1: RefCmdSN already received and answered: the task "does not exist" (libiscsi's
        // AbortTaskSimpleAsync fails a target that says "complete" here).
        assertThat(tmf(ABORT_TASK, Cdbs.lun(0), 0x7777, ini.cmdSn() - 1)).isEqualTo(NO_TASK);
        // Inside the window but not yet arrived, and before the request's own CmdSN: "function complete".
        ini.cmdSn(ini.cmdSn() + 2); // the TMF now carries CmdSN n+2, as if n and n+1 were still on their way
        assertThat(tmf(ABORT_TASK, Cdbs.lun(0), 0x7778, ini.cmdSn() - 1)).isEqualTo(COMPLETE);
        // Beyond MaxCmdSN: "does not exist".
        assertThat(tmf(ABORT_TASK, Cdbs.lun(0), 0x7779, ini.maxCmdSn() + 100)).isEqualTo(NO_TASK);
    }

    @Test
    void abortTaskSetAndClearTaskSetEndThePendingTasksOfTheLun() throws IOException {
        pendingWrite(Cdbs.lun(0));
        assertThat(tmf(ABORT_TASK_SET, Cdbs.lun(0), 0, 0)).isEqualTo(COMPLETE);
        pendingWrite(Cdbs.lun(0));
        assertThat(tmf(CLEAR_TASK_SET, Cdbs.lun(0), 0, 0)).isEqualTo(COMPLETE);
        assertThat(ini.read10(Cdbs.lun(0), 0, 1).good()).isTrue();
        assertThat(tmf(ABORT_TASK_SET, Cdbs.lun(9), 0, 0)).isEqualTo(NO_LUN);
    }

    @Test
    void lunResetAbortsAndRaisesAUnitAttention() throws IOException {
        pendingWrite(Cdbs.lun(1));
        assertThat(tmf(LUN_RESET, Cdbs.lun(1), 0, 0)).isEqualTo(COMPLETE);
        ScsiResult r = ini.testUnitReady(Cdbs.lun(1));
        assertThat(r.senseKey()).as("UNIT ATTENTION").isEqualTo(0x6);
        assertThat(r.asc()).as("BUS DEVICE RESET FUNCTION OCCURRED").isEqualTo(0x29);
        assertThat(ini.testUnitReady(Cdbs.lun(1)).good()).isTrue();
        assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).as("LUN 0 was not reset").isTrue();
        assertThat(tmf(LUN_RESET, Cdbs.lun(9), 0, 0)).isEqualTo(NO_LUN);
    }

    /**
     * A reset from another path (another I_T nexus) ends this session's pending task with TASK
     * ABORTED (TAS = 1 in the control mode page) before the reset is answered, and a command sent
     * after the answer is not caught by it (libiscsi MultipathIO.Reset hung on both points).
     */
    @Test
    void aLunResetFromAnotherSessionAbortsWithTaskAbortedStatusBeforeItAnswers() throws IOException {
        int itt = pendingWrite(Cdbs.lun(0));
        try (TestInitiator other = target.loggedIn("iqn.2026-11.test:other-path")) {
            int tmfItt = other.newItt();
            other.send(Pdu.of(Pdu.TASK_MGMT, true).set8(1, 0x80 | LUN_RESET).set64(8, Cdbs.lun(0)).set32(16, tmfItt)
                    .set32(24, other.cmdSn()).set32(28, other.expStatSn()));
            assertThat(other.awaitReply(tmfItt, Pdu.TASK_MGMT_RESPONSE).u8(2)).isEqualTo(COMPLETE);
            Pdu aborted = ini.awaitReply(itt, Pdu.SCSI_RESPONSE);
            assertThat(aborted.u8(3)).as("status TASK ABORTED").isEqualTo(0x40);
            ScsiResult ua = ini.testUnitReady(Cdbs.lun(0));
            assertThat(ua.senseKey()).as("the reset's unit attention").isEqualTo(0x6);
            assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
            assertThat(other.testUnitReady(Cdbs.lun(0)).senseKey()).isEqualTo(0x6);
        }
    }

    @Test
    void targetWarmResetResetsEveryLun() throws IOException {
        assertThat(tmf(TARGET_WARM_RESET, 0, 0, 0)).isEqualTo(COMPLETE);
        assertThat(ini.testUnitReady(Cdbs.lun(0)).senseKey()).isEqualTo(0x6);
        assertThat(ini.testUnitReady(Cdbs.lun(1)).senseKey()).isEqualTo(0x6);
        assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
    }

    @Test
    void functionsThatNeedErl2OrAcaAreRefused() throws IOException {
        assertThat(tmf(TASK_REASSIGN, Cdbs.lun(0), 1, 0)).isEqualTo(REASSIGN_NOT_SUPPORTED);
        assertThat(tmf(CLEAR_ACA, Cdbs.lun(0), 0, 0)).isEqualTo(NOT_SUPPORTED);
        assertThat(tmf(0x7f, Cdbs.lun(0), 0, 0)).isEqualTo(NOT_SUPPORTED);
        assertThat(ini.testUnitReady(Cdbs.lun(0)).good()).isTrue();
    }
}
