package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.ReservationHarness.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PERSISTENT RESERVE IN parameter data (SPC-4 §6.15) and malformed PERSISTENT RESERVE commands. */
class PersistentReservationsCommandTest {
    private static final Nexus A = nexus("iqn.2026-11.test:a", 0x800000000001L);
    private static final Nexus B = nexus("iqn.2026-11.test:b", 0x800000000002L);
    private static final long KA = 0x0102030405060708L, KB = 0x2222L;

    @TempDir
    Path dir;

    private ReservationHarness h;

    @BeforeEach
    void open() throws IOException {
        h = new ReservationHarness(dir);
    }

    @AfterEach
    void close() throws IOException {
        h.close();
    }

    // ---- PERSISTENT RESERVE IN ------------------------------------------------------------------

    @Test
    void serviceActionsZeroToThreeWorkTheRestAreInvalid() {
        for (int sa = 0; sa <= 3; sa++) {
            h.prin(A, sa, 16384).isGood();
        }
        for (int sa = 4; sa <= 0x1f; sa++) {
            // libiscsi PrinServiceactionRange: not 0x20/0x00, which it would take for "not implemented".
            h.prin(A, sa, 16384).isCheck(0x05, 0x24, 0x00);
        }
    }

    @Test
    void readKeysListsEveryRegistration() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        byte[] d = h.prin(A, READ_KEYS, 16384).isGood().data();
        assertThat(d).hasSize(24);
        assertThat(Cdb.u32(d, 0)).as("PRgeneration").isEqualTo(2);
        assertThat(Cdb.u32(d, 4)).as("ADDITIONAL LENGTH").isEqualTo(16);
        assertThat(Cdb.u64(d, 8)).isEqualTo(KA);
        assertThat(Cdb.u64(d, 16)).isEqualTo(KB);
    }

    @Test
    void truncatedDataKeepsTheFullLengths() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        // libiscsi PrinReadKeys.Truncate: allocation length 8, no keys, full ADDITIONAL LENGTH.
        ReservationHarness.Reply keys = h.prin(A, READ_KEYS, 8).isGood();
        assertThat(keys.data()).hasSize(8);
        assertThat(keys.result().transferLength()).isEqualTo(8);
        assertThat(Cdb.u32(keys.data(), 4)).isEqualTo(16);
        assertThat(h.prin(A, READ_KEYS, 12).isGood().data()).hasSize(12);
        assertThat(h.prin(A, READ_KEYS, 0).isGood().result().transferLength()).isZero();

        byte[] status = h.prin(A, READ_FULL_STATUS, 8).isGood().data();
        assertThat(Cdb.u32(status, 4)).isEqualTo(h.prin(A, READ_FULL_STATUS, 4096).data().length - 8);
        assertThat(Cdb.u16(h.prin(A, REPORT_CAPABILITIES, 2).isGood().data(), 0)).isEqualTo(8);
    }

    @Test
    void readReservationWithoutAReservationIsJustTheHeader() {
        h.registerAndIgnore(A, KA).isGood();
        byte[] d = h.prin(A, READ_RESERVATION, 16384).isGood().data();
        assertThat(d).containsExactly(0, 0, 0, 1, 0, 0, 0, 0);
    }

    @Test
    void readReservationDescribesIt() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KA, EARO).isGood();
        byte[] d = h.prin(B, READ_RESERVATION, 16384).isGood().data();
        assertThat(d).hasSize(24);
        assertThat(Cdb.u32(d, 4)).isEqualTo(16);
        assertThat(Cdb.u64(d, 8)).isEqualTo(KA);
        assertThat(d[21]).as("SCOPE 0, TYPE").isEqualTo((byte) EARO);
    }

    @Test
    void reportCapabilities() {
        byte[] d = h.prin(A, REPORT_CAPABILITIES, 16384).isGood().data();
        // LENGTH 8; CRH; TMV + ALLOW COMMANDS 011b; type mask WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX, EX_AC_AR.
        assertThat(d).containsExactly(0x00, 0x08, 0x10, 0xb0, 0xea, 0x01, 0x00, 0x00);
    }

    @Test
    void readFullStatusDescribesEachRegisteredNexus() {
        Nexus otherPort = Nexus.iscsi("iqn.2026-11.test:b", 0x800000000002L, TARGET, 2, 7);
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(otherPort, KB).isGood();
        h.reserve(A, KA, WE).isGood();
        byte[] d = h.prin(B, READ_FULL_STATUS, 16384).isGood().data();
        assertThat(Cdb.u32(d, 0)).isEqualTo(2);
        assertThat(Cdb.u32(d, 4)).isEqualTo(d.length - 8);

        int second = checkDescriptor(d, 8, KA, true, WE, 1, "iqn.2026-11.test:a,i,0x800000000001");
        int end = checkDescriptor(d, second, KB, false, 0, 7, "iqn.2026-11.test:b,i,0x800000000002");
        assertThat(end).isEqualTo(d.length);
    }

    @Test
    void everyRegistrantHoldsAnAllRegistrantsReservation() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(B, KB, EAAR).isGood();
        byte[] d = h.prin(A, READ_FULL_STATUS, 16384).isGood().data();
        int second = checkDescriptor(d, 8, KA, true, EAAR, 1, "iqn.2026-11.test:a,i,0x800000000001");
        checkDescriptor(d, second, KB, true, EAAR, 1, "iqn.2026-11.test:b,i,0x800000000002");
    }

    /** Checks one full status descriptor (SPC-4 Table 211); returns where the next one starts. */
    private static int checkDescriptor(byte[] d, int at, long key, boolean holder, int type, int port, String initiatorPort) {
        assertThat(Cdb.u64(d, at)).as("RESERVATION KEY").isEqualTo(key);
        assertThat(d[at + 12]).as("ALL_TG_PT 0, R_HOLDER").isEqualTo((byte) (holder ? 1 : 0));
        assertThat(d[at + 13]).as("SCOPE, TYPE").isEqualTo((byte) type);
        assertThat(Cdb.u16(d, at + 18)).as("RELATIVE TARGET PORT IDENTIFIER").isEqualTo(port);
        int length = (int) Cdb.u32(d, at + 20);
        byte[] transportId = Arrays.copyOfRange(d, at + 24, at + 24 + length);
        // SPC-4 §7.6.4.6: iSCSI, format 01b; the port name null-terminated, padded to 4, at least 24.
        assertThat(transportId[0]).isEqualTo((byte) 0x45);
        assertThat(length % 4).isZero();
        assertThat(length).isGreaterThanOrEqualTo(24);
        assertThat(Cdb.u16(transportId, 2)).isEqualTo(length - 4);
        byte[] name = initiatorPort.getBytes(StandardCharsets.US_ASCII);
        assertThat(Arrays.copyOfRange(transportId, 4, 4 + name.length)).isEqualTo(name);
        assertThat(Arrays.copyOfRange(transportId, 4 + name.length, length)).containsOnly(0);
        return at + 24 + length;
    }

    // ---- malformed PERSISTENT RESERVE OUT -------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {REGISTER_AND_MOVE, 0x08, 0x09, 0x1f})
    void unsupportedServiceActions(int sa) {
        h.registerAndIgnore(A, KA).isGood();
        h.prout(A, sa, WE, KA, KB).isCheck(0x05, 0x24, 0x00);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 8, 23, 25, 32, 0xffffffffL})
    void theParameterListMustBe24Bytes(long length) {
        byte[] params = Arrays.copyOf(parameters(0, KA, 0), (int) Math.min(length, 64));
        h.run(A, proutCdb(REGISTER_AND_IGNORE, 0, length), params, 0).isCheck(0x05, 0x1a, 0x00);
        assertThat(h.keys(A)).isEmpty();
    }

    @Test
    void lessDataThanTheParameterListLengthIsALengthError() {
        h.run(A, proutCdb(REGISTER_AND_IGNORE, 0, 24), Arrays.copyOf(parameters(0, KA, 0), 16), 0)
                .isCheck(0x05, 0x1a, 0x00);
        h.run(A, proutCdb(REGISTER_AND_IGNORE, 0, 24), null, 0).isCheck(0x05, 0x1a, 0x00);
        assertThat(h.keys(A)).isEmpty();
    }

    @Test
    void specifyInitiatorPortsIsNotSupported() {
        h.run(A, proutCdb(REGISTER, 0, 24), parameters(0, KA, 0x08), 0).isCheck(0x05, 0x26, 0x00);
        // With TransportIDs the list is longer than 24: still the unsupported bit, not the length.
        byte[] longer = Arrays.copyOf(parameters(0, KA, 0x08), 52);
        h.run(A, proutCdb(REGISTER, 0, 52), longer, 0).isCheck(0x05, 0x26, 0x00);
        h.registerAndIgnore(A, KA).isGood();
        h.run(A, proutCdb(RESERVE, WE, 24), parameters(KA, 0, 0x08), 0).isCheck(0x05, 0x26, 0x00);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x04, 0x01}) // ALL_TG_PT, APTPL
    void allTargetPortsAndPersistThroughPowerLossAreNotSupported(int flag) {
        h.run(A, proutCdb(REGISTER, 0, 24), parameters(0, KA, flag), 0).isCheck(0x05, 0x26, 0x00);
        h.run(A, proutCdb(REGISTER_AND_IGNORE, 0, 24), parameters(0, KA, flag), 0).isCheck(0x05, 0x26, 0x00);
        assertThat(h.keys(A)).isEmpty();
        // §6.16.3: the bits are ignored by the other service actions.
        h.registerAndIgnore(A, KA).isGood();
        h.run(A, proutCdb(RESERVE, WE, 24), parameters(KA, 0, flag), 0).isGood();
        h.run(A, proutCdb(RELEASE, WE, 24), parameters(KA, 0, flag), 0).isGood();
    }

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x02, 0x04, 0x09, 0x0f, 0x11, 0x21})
    void reserveAndReleaseNeedLuScopeAndASupportedType(int scopeAndType) {
        h.registerAndIgnore(A, KA).isGood();
        h.prout(A, RESERVE, scopeAndType, KA, 0).isCheck(0x05, 0x24, 0x00);
        h.prout(A, RELEASE, scopeAndType, KA, 0).isCheck(0x05, 0x24, 0x00);
        assertThat(h.reservation(A)).isNull();
    }

    @Test
    void scopeAndTypeAreIgnoredWhereTable216SaysSo() {
        h.prout(A, REGISTER_AND_IGNORE, 0x2f, 0, KA).isGood();
        h.prout(A, REGISTER, 0x2f, KA, KB).isGood();
        h.prout(A, CLEAR, 0x2f, KB, 0).isGood();
        assertThat(h.keys(A)).isEmpty();
    }

    @Test
    void failuresLeavePrGenerationAlone() {
        h.registerAndIgnore(A, KA).isGood();
        h.register(A, KB, 1).isConflict();
        h.prout(A, REGISTER_AND_MOVE, WE, KA, KB).isCheck(0x05, 0x24, 0x00);
        h.run(A, proutCdb(CLEAR, 0, 23), new byte[23], 0).isCheck(0x05, 0x1a, 0x00);
        h.run(A, proutCdb(REGISTER, 0, 24), parameters(KA, 9, 0x01), 0).isCheck(0x05, 0x26, 0x00);
        assertThat(h.generation(A)).isEqualTo(1);
        assertThat(h.keys(A)).containsExactly(KA);
    }
}
