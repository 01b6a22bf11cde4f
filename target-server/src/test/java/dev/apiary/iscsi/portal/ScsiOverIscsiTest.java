package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.Pdu;
import dev.apiary.iscsi.wire.ScsiResult;
import dev.apiary.iscsi.wire.TestInitiator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SCSI commands end to end over a logged-in session (RFC 7143 §4.2.5, SPC-4, SBC-3). */
@Timeout(30)
class ScsiOverIscsiTest {
    static final String INITIATOR = "iqn.2025-01.dev.apiary:scsi";
    static final int MIB = 1 << 20;

    @TempDir
    static Path dir;

    static TargetFixture target;

    @BeforeAll
    static void start() throws IOException {
        target = TargetFixture.start(dir, Set.of(), false);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (target != null) {
            target.close();
        }
        LeakWatch.assertNoLeaks();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void oneMebibyteWriteGoesThroughR2tsAndReadsBack() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            byte[] data = random(MIB, 1);
            ScsiResult w = ini.write10(Cdbs.lun(0), 0, data);
            assertThat(w.good()).as("%s", w).isTrue();
            // InitialR2T=Yes, no immediate data: all of it solicited, MaxBurstLength (256 KiB) per R2T.
            assertThat(ini.r2tsAnswered()).isEqualTo(4);
            ScsiResult r = ini.read10(Cdbs.lun(0), 0, MIB / TestInitiator.BLOCK);
            assertThat(r.good()).as("%s", r).isTrue();
            assertThat(r.residual()).isZero();
            assertThat(Arrays.equals(r.data(), data)).as("1 MiB read back intact").isTrue();
            assertThat(ini.strays()).isEmpty();
        }
    }

    @Test
    void writeWithImmediateDataSolicitsOnlyTheRest() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            ini.sendImmediateData(true).dataOutChunk(8192);
            int length = 65536 + 300 * 1024;
            byte[] data = random(length, 2);
            ScsiResult w = ini.write10(Cdbs.lun(0), 4096, data);
            assertThat(w.good()).as("%s", w).isTrue();
            // 64 KiB came with the command; the remaining 300 KiB is one full burst and a short one.
            assertThat(ini.r2tsAnswered()).isEqualTo(2);
            ScsiResult r = ini.read10(Cdbs.lun(0), 4096, length / TestInitiator.BLOCK);
            assertThat(Arrays.equals(r.data(), data)).isTrue();
        }
    }

    @Test
    void lunsAreSeparateDisks() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            byte[] a = random(4096, 3);
            byte[] b = random(4096, 4);
            assertThat(ini.write10(Cdbs.lun(0), 8000, a).good()).isTrue();
            assertThat(ini.write10(Cdbs.lun(1), 8000, b).good()).isTrue();
            assertThat(ini.read10(Cdbs.lun(0), 8000, 8).data()).isEqualTo(a);
            assertThat(ini.read10(Cdbs.lun(1), 8000, 8).data()).isEqualTo(b);
        }
    }

    @Test
    void readCapacity16ReportsTheSizeOfEachLun() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            long[][] luns = {{0, TargetFixture.LUN0_BYTES}, {1, TargetFixture.LUN1_BYTES}};
            for (long[] l : luns) {
                ScsiResult r = ini.scsi(Cdbs.lun((int) l[0]), Cdbs.readCapacity16(32), null, 32, true, false);
                assertThat(r.good()).as("%s", r).isTrue();
                assertThat(r.data()).hasSize(32);
                assertThat(Cdbs.u64(r.data(), 0)).as("last LBA of LUN %d", l[0]).isEqualTo(l[1] / 512 - 1);
                assertThat(Cdbs.u32(r.data(), 8)).isEqualTo(512);
            }
        }
    }

    @Test
    void reportLunsListsLunsZeroAndOne() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            ScsiResult r = ini.scsi(Cdbs.lun(0), Cdbs.reportLuns(256), null, 256, true, false);
            assertThat(r.good()).as("%s", r).isTrue();
            byte[] d = r.data();
            assertThat(Cdbs.u32(d, 0)).as("LUN list length").isEqualTo(16);
            assertThat(d).hasSize(24);
            assertThat(Cdbs.u64(d, 8)).isEqualTo(Cdbs.lun(0));
            assertThat(Cdbs.u64(d, 16)).isEqualTo(Cdbs.lun(1));
            assertThat(r.underflow()).as("256 asked, 24 sent").isTrue();
            assertThat(r.residual()).isEqualTo(256 - 24);
        }
    }

    @Test
    void inquiryOnAMissingLunAnswersPeripheralQualifierThree() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            ScsiResult r = ini.scsi(Cdbs.lun(5), Cdbs.inquiry(96), null, 96, true, false);
            assertThat(r.good()).as("%s", r).isTrue();
            assertThat(r.data()[0] & 0xff).isEqualTo(0x7f);
            ScsiResult present = ini.scsi(Cdbs.lun(1), Cdbs.inquiry(96), null, 96, true, false);
            assertThat(present.data()[0] & 0xff).as("LUN 1: direct-access block device").isEqualTo(0x00);
            ScsiResult tur = ini.testUnitReady(Cdbs.lun(5));
            assertThat(tur.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
            assertThat(tur.senseKey()).as("ILLEGAL REQUEST").isEqualTo(0x05);
            assertThat(tur.asc()).as("LOGICAL UNIT NOT SUPPORTED").isEqualTo(0x25);
        }
    }

    @Test
    void commandsSentOutOfCmdSnOrderAllComplete() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            int n = ini.cmdSn();
            byte[][] data = {random(4096, 10), random(4096, 11), random(4096, 12)};
            int[] itts = new int[3];
            for (int k = 2; k >= 0; k--) { // CmdSN n+2, n+1, n: the first two wait for the gap to fill
                ini.cmdSn(n + k);
                itts[k] = ini.sendCommand(Cdbs.lun(0), Cdbs.write10(9000 + 8L * k, 8), data[k], 4096, false, true,
                        true);
            }
            ini.cmdSn(n + 3);
            for (int k = 0; k < 3; k++) {
                ScsiResult r = ini.await(itts[k]);
                assertThat(r.good()).as("command %d: %s", k, r).isTrue();
            }
            assertThat(ini.expCmdSn()).isEqualTo(n + 3);
            for (int k = 0; k < 3; k++) {
                assertThat(ini.read10(Cdbs.lun(0), 9000 + 8L * k, 8).data()).isEqualTo(data[k]);
            }
            assertThat(ini.strays()).isEmpty();
        }
    }

    @Test
    void manyCommandsInFlightAtOnce() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            int count = 32;
            int[] itts = new int[count];
            for (int k = 0; k < count; k++) {
                itts[k] = ini.sendCommand(Cdbs.lun(0), Cdbs.read10(k, 16), null, 16 * 512, true, false, true);
            }
            for (int k = 0; k < count; k++) {
                assertThat(ini.await(itts[k]).data()).hasSize(16 * 512);
            }
            assertThat(ini.maxCmdSn() - ini.expCmdSn()).as("the window reopened").isEqualTo(64 - 1);
        }
    }

    @Test
    void residualsWhenExpectedLengthAndCdbDisagree() throws IOException {
        try (TestInitiator ini = target.loggedIn(INITIATOR)) {
            byte[] before = random(1024, 20);
            assertThat(ini.write10(Cdbs.lun(0), 12000, before).good()).isTrue();
            // RFC 7143 §11.4.5: underflow, the CDB asks for less than the initiator expects.
            ScsiResult under = ini.scsi(Cdbs.lun(0), Cdbs.read10(12000, 1), null, 1024, true, false);
            assertThat(under.good()).isTrue();
            assertThat(under.underflow()).isTrue();
            assertThat(under.residual()).isEqualTo(512);
            assertThat(under.data()).isEqualTo(Arrays.copyOf(before, 512));
            // Overflow on a read: only what the initiator expects is sent.
            ScsiResult over = ini.scsi(Cdbs.lun(0), Cdbs.read10(12000, 2), null, 512, true, false);
            assertThat(over.good()).isTrue();
            assertThat(over.overflow()).isTrue();
            assertThat(over.residual()).isEqualTo(512);
            assertThat(over.data()).isEqualTo(Arrays.copyOf(before, 512));
            // Overflow on a write: the blocks both cover are written, the rest untouched.
            byte[] half = random(512, 21);
            ScsiResult w = ini.scsi(Cdbs.lun(0), Cdbs.write10(12000, 2), half, 512, false, true);
            assertThat(w.good()).as("%s", w).isTrue();
            assertThat(w.overflow()).isTrue();
            assertThat(w.residual()).isEqualTo(512);
            byte[] now = ini.read10(Cdbs.lun(0), 12000, 2).data();
            assertThat(Arrays.copyOf(now, 512)).isEqualTo(half);
            assertThat(Arrays.copyOfRange(now, 512, 1024)).isEqualTo(Arrays.copyOfRange(before, 512, 1024));
        }
    }

    @Test
    void smallNegotiatedLimitsShapeR2tsAndDataIn() throws IOException {
        try (TestInitiator ini = target.connect()) {
            assertThat(ini.login(INITIATOR, TargetFixture.IQN, TargetFixture.USER, TargetFixture.SECRET,
                    ChapAlgorithm.MD5, null, Map.of("MaxRecvDataSegmentLength", "4096",
                            "MaxBurstLength", "16384", "FirstBurstLength", "8192")).ok()).isTrue();
            assertThat(ini.negotiated().maxBurst()).isEqualTo(16384);
            assertThat(ini.negotiated().firstBurst()).isEqualTo(8192);
            byte[] data = random(65536, 30);
            List<Pdu> seen = ini.record();
            assertThat(ini.write10(Cdbs.lun(0), 14000, data).good()).isTrue();
            List<Pdu> r2ts = seen.stream().filter(p -> p.opcode() == Pdu.R2T).toList();
            assertThat(r2ts).hasSize(4).allSatisfy(p -> assertThat(p.i32(44)).isEqualTo(16384));
            assertThat(r2ts.stream().map(p -> p.i32(36))).as("R2TSN").containsExactly(0, 1, 2, 3);
            seen.clear();
            ScsiResult r = ini.read10(Cdbs.lun(0), 14000, 128);
            assertThat(r.data()).isEqualTo(data);
            List<Pdu> dataIn = seen.stream().filter(p -> p.opcode() == Pdu.DATA_IN).toList();
            assertThat(dataIn).hasSize(16); // 4096 bytes each: our MaxRecvDataSegmentLength
            for (int i = 0; i < dataIn.size(); i++) {
                Pdu p = dataIn.get(i);
                assertThat(p.i32(36)).as("DataSN").isEqualTo(i);
                assertThat(p.i32(40)).as("offset").isEqualTo(i * 4096);
                // §11.7.1: F ends each sequence, which MaxBurstLength bounds for reads.
                assertThat(p.fin()).as("F on PDU %d", i).isEqualTo((i + 1) % 4 == 0);
            }
        }
    }

    @Test
    void unsolicitedDataOutWhenInitialR2tIsNo() throws IOException {
        try (TestInitiator ini = target.connect()) {
            assertThat(ini.login(INITIATOR, TargetFixture.IQN, TargetFixture.USER, TargetFixture.SECRET,
                    ChapAlgorithm.SHA1, null, Map.of("InitialR2T", "No")).ok()).isTrue();
            assertThat(ini.negotiated().initialR2T()).isFalse();
            ini.dataOutChunk(8192);
            byte[] data = random(200 * 1024, 40);
            ScsiResult w = ini.write10(Cdbs.lun(1), 100, data);
            assertThat(w.good()).as("%s", w).isTrue();
            assertThat(ini.r2tsAnswered()).as("only what FirstBurstLength did not cover is solicited").isEqualTo(1);
            assertThat(ini.read10(Cdbs.lun(1), 100, data.length / 512).data()).isEqualTo(data);
        }
    }
}
