package dev.apiary.iscsi.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The order a command meets the unit's state in, and the sense it gets (SAM-5, SPC-4, SBC-3). */
class LogicalUnitTest {
    @TempDir
    Path dir;

    ReservationHarness h;
    final Nexus a = ReservationHarness.nexus("iqn.test:a", 1);
    final Nexus b = ReservationHarness.nexus("iqn.test:b", 2);
    static final byte[] TUR = new byte[16];

    @BeforeEach
    void open() throws Exception {
        h = new ReservationHarness(dir);
    }

    @AfterEach
    void close() throws Exception {
        h.close();
    }

    static byte[] read16(long lba, int blocks) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x88;
        Cdb.put64(c, 2, lba);
        Cdb.put32(c, 10, blocks);
        return c;
    }

    @Test
    void aResizeIsReportedOnceToEachInitiatorAsAUnitAttention() throws Exception {
        h.run(a, TUR, null, 0).isGood();
        h.run(b, TUR, null, 0).isGood();
        h.lu.volume().resize(2 << 20);
        // INQUIRY neither reports nor clears it (SAM-5 5.14).
        byte[] inquiry = {0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        h.run(a, inquiry, null, 36).isGood();
        h.run(a, TUR, null, 0).isCheck(SenseReason.CAPACITY_DATA_CHANGED);
        h.run(a, TUR, null, 0).isGood();
        h.run(b, TUR, null, 0).isCheck(SenseReason.CAPACITY_DATA_CHANGED);
        h.run(b, read16(4000, 1), null, 512).isGood(); // the new blocks are readable
    }

    @Test
    void aLunResetIsReportedToEveryNexusIncludingTheOneThatAsked() {
        h.run(a, TUR, null, 0).isGood();
        h.run(b, TUR, null, 0).isGood();
        h.lu.reset();
        h.run(a, TUR, null, 0).isCheck(SenseReason.BUS_DEVICE_RESET);
        h.run(b, TUR, null, 0).isCheck(SenseReason.BUS_DEVICE_RESET);
        h.run(b, TUR, null, 0).isGood();
    }

    @Test
    void rangeChecksTreatTheLbaAsUnsigned() {
        h.run(a, read16(0xffffffffffffffffL, 1), null, 512).isCheck(SenseReason.LBA_OUT_OF_RANGE);
        h.run(a, read16(1L << 63, 0), null, 0).isCheck(SenseReason.LBA_OUT_OF_RANGE);
        h.run(a, read16(2047, 1), null, 512).isGood();
        h.run(a, read16(2047, 2), null, 1024).isCheck(SenseReason.LBA_OUT_OF_RANGE);
        h.run(a, read16(2048, 0), null, 0).isGood(); // zero blocks at the end is not an error
    }

    @Test
    void unknownOpcodesAndNacaAreRefused() {
        byte[] xcopy = new byte[16];
        xcopy[0] = (byte) 0x83;
        h.run(a, xcopy, null, 0).isCheck(SenseReason.INVALID_OPCODE);
        byte[] naca = new byte[16];
        naca[5] = 0x04; // TEST UNIT READY with NACA in its control byte
        h.run(a, naca, null, 0).isCheck(SenseReason.INVALID_FIELD_IN_CDB);
    }

    @Test
    void reportSupportedOpcodesErrorsCarryAFieldPointer() {
        byte[] rsoc = new byte[16];
        rsoc[0] = (byte) 0xa3;
        rsoc[1] = 0x0c;
        rsoc[2] = 0x01; // one command, no service action...
        rsoc[3] = (byte) 0x9e; // ...for an opcode that has service actions
        Cdb.put32(rsoc, 6, 512);
        byte[] s = h.run(a, rsoc, null, 512).isCheck(SenseReason.INVALID_FIELD_IN_CDB).result().sense();
        assertThat(s[15] & 0xff).as("SKSV | C/D").isEqualTo(0xc0);
        assertThat(Cdb.u16(s, 16)).as("field pointer").isEqualTo(2);
    }

    @Test
    void dSenseSwitchesToDescriptorFormat() {
        byte[] sense = {0x1a, 0x08, 0x0a, 0, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        byte[] page = h.run(a, sense, null, 255).isGood().data();
        int header = 4;
        byte[] control = java.util.Arrays.copyOfRange(page, header, header + 12);
        control[2] |= 0x04; // D_SENSE
        byte[] list = new byte[4 + control.length];
        System.arraycopy(control, 0, list, 4, control.length);
        byte[] select = {0x15, 0x10, 0, 0, (byte) list.length, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        h.run(a, select, list, 0).isGood();
        ScsiResult r = h.run(a, read16(-1L, 1), null, 512).result();
        assertThat(r.sense()[0] & 0x7f).as("response code").isEqualTo(0x72);
        assertThat(r.sense()[2] & 0xff).as("ASC").isEqualTo(0x21);
    }

    /** A store that stops answering (its op timeout fired) gets NOT READY, not a medium error, and the unit goes on. */
    @Test
    void aStoreTimeoutIsNotReadyAndTheNextCommandStillRuns() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stuck = new java.util.concurrent.atomic.AtomicBoolean(true);
        dev.apiary.lun.Volume healthy = h.lu.volume();
        dev.apiary.lun.Volume flaky = new dev.apiary.lun.Volume() { // the real volume, until it is "stuck"
            public String name() { return "rbd/w1"; }
            public long size() { return healthy.size(); }
            public void read(long offset, java.nio.ByteBuffer dst) throws java.io.IOException {
                if (stuck.get()) {
                    throw new dev.apiary.lun.VolumeTimeoutException("rbd/w1: no OSD answered in 30 s");
                }
                healthy.read(offset, dst);
            }
            public void write(long offset, java.nio.ByteBuffer src, boolean fua) throws java.io.IOException {
                healthy.write(offset, src, fua);
            }
            public void flush() throws java.io.IOException { healthy.flush(); }
            public void unmap(long offset, long length) throws java.io.IOException { healthy.unmap(offset, length); }
            public void resize(long newSize) throws java.io.IOException { healthy.resize(newSize); }
            public void close() {}
        };
        LogicalUnit lu = new LogicalUnit(flaky, LunIdentity.fromSerial("flaky"), 512);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(512);
        ScsiResult r = lu.execute(new ScsiRequest(a, 0L, read16(0, 1), null, in));
        assertThat(r.status()).isEqualTo(ScsiStatus.CHECK_CONDITION);
        assertThat(new int[] {r.sense()[2] & 0x0f, r.sense()[12] & 0xff, r.sense()[13] & 0xff})
                .containsExactly(0x02, 0x04, 0x00); // NOT READY, LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE
        stuck.set(false);
        assertThat(lu.execute(new ScsiRequest(a, 0L, read16(0, 1), null, java.nio.ByteBuffer.allocate(512))).status())
                .isEqualTo(ScsiStatus.GOOD);
    }
}
