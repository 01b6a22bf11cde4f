package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.ReservationHarness.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Which commands meet RESERVATION CONFLICT under each reservation type (SPC-4 Table 65, SBC-4
 * Table 13), and how SPC-2 RESERVE/RELEASE and persistent reservations exclude each other
 * (SPC-2 §5.5.1, SPC-4 §5.13.3).
 */
class PersistentReservationsAccessTest {
    private static final Nexus A = nexus("iqn.2026-11.test:a", 0x800000000001L);
    private static final Nexus B = nexus("iqn.2026-11.test:b", 0x800000000002L);
    private static final Nexus C = nexus("iqn.2026-11.test:c", 0x800000000003L);
    private static final long KA = 0x1111L, KB = 0x2222L;

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

    /** The access matrix of libiscsi's ProutReserve.Access* tests, with MODE SENSE read-like. */
    @ParameterizedTest(name = "type {0}")
    @CsvSource({
        // type, registered read, registered write, unregistered read, unregistered write
        "1, true,  false, true,  false", // Write Exclusive
        "3, false, false, false, false", // Exclusive Access
        "5, true,  true,  true,  false", // Write Exclusive - Registrants Only
        "6, true,  true,  false, false", // Exclusive Access - Registrants Only
        "7, true,  true,  true,  false", // Write Exclusive - All Registrants
        "8, true,  true,  false, false", // Exclusive Access - All Registrants
    })
    void secondNexusPerType(int type, boolean regRead, boolean regWrite, boolean unregRead, boolean unregWrite) {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, type).isGood();
        for (ReservationHarness.Reply r : new ReservationHarness.Reply[] {
            h.read10(A), h.write10(A), h.testUnitReady(A), h.modeSense6(A)
        }) {
            r.isGood(); // the holder is never restricted
        }

        expect(h.read10(B), regRead);
        expect(h.modeSense6(B), regRead);
        expect(h.write10(B), regWrite);
        h.testUnitReady(B).isGood(); // SPC-4 Table 65: allowed through every type

        h.register(B, KB, 0).isGood();
        expect(h.read10(B), unregRead);
        expect(h.modeSense6(B), unregRead);
        expect(h.write10(B), unregWrite);
        h.testUnitReady(B).isGood();

        h.release(A, KA, type).isGood();
        h.register(A, KA, 0).isGood();
        h.write10(B).isGood();
        assertThat(h.unitAttention(B)).as("B was unregistered when A released").isNull();
    }

    private static void expect(ReservationHarness.Reply r, boolean allowed) {
        if (allowed) {
            r.isGood();
        } else {
            r.isConflict();
        }
    }

    @Test
    void commandsAllowedThroughEveryReservation() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KA, EA).isGood();
        h.run(B, new byte[] {0x12, 0, 0, 0, 36, 0}, null, 36).isGood(); // INQUIRY
        h.run(B, new byte[] {0x03, 0, 0, 0, 18, 0}, null, 18).isGood(); // REQUEST SENSE
        h.run(B, new byte[] {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, null, 8).isGood(); // READ CAPACITY(10)
        h.prin(B, READ_KEYS, 64).isGood();
        h.registerAndIgnore(B, KB).isGood(); // Table 66: REGISTER is always allowed
    }

    @Test
    void startStopUnitIsAWriteUnlessItStartsTheUnit() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KA, EA).isGood();
        h.run(B, new byte[] {0x1b, 0, 0, 0, 0x01, 0}, null, 0).isGood(); // START = 1, POWER CONDITION = 0
        h.run(B, new byte[] {0x1b, 0, 0, 0, 0x00, 0}, null, 0).isConflict(); // STOP
        h.run(B, new byte[] {0x1b, 0, 0, 0, 0x11, 0}, null, 0).isConflict(); // a power condition
    }

    @ParameterizedTest
    @EnumSource(ScsiOpcode.class)
    void everyCommandHasARowInTheTable(ScsiOpcode op) {
        assertThat(ReservationAccess.classified(op)).as("%s in ReservationAccess", op).isTrue();
    }

    @Test
    void reportCapabilitiesMatchesTheTable() {
        // ALLOW COMMANDS 011b promises MODE SENSE and REPORT SUPPORTED OPERATION CODES get through
        // Write Exclusive, and TEST UNIT READY through Exclusive Access.
        assertThat(ReservationAccess.ALLOW_COMMANDS).isEqualTo(0b011);
        assertThat(ReservationAccess.allowed(ScsiOpcode.MODE_SENSE_10, new byte[10],
                ReservationType.WRITE_EXCLUSIVE, false)).isTrue();
        assertThat(ReservationAccess.allowed(ScsiOpcode.REPORT_SUPPORTED_OPCODES, new byte[12],
                ReservationType.WRITE_EXCLUSIVE, false)).isTrue();
        assertThat(ReservationAccess.allowed(ScsiOpcode.TEST_UNIT_READY, new byte[6],
                ReservationType.EXCLUSIVE_ACCESS, false)).isTrue();
        assertThat(ReservationAccess.allowed(ScsiOpcode.SYNCHRONIZE_CACHE_10, new byte[10],
                ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, true)).isTrue();
        assertThat(ReservationAccess.allowed(ScsiOpcode.SYNCHRONIZE_CACHE_10, new byte[10],
                ReservationType.WRITE_EXCLUSIVE, true)).isFalse();
    }

    // ---- SPC-2 RESERVE / RELEASE versus persistent reservations ---------------------------------

    @Test
    void anyRegistrationMakesReserveAndReleaseConflict() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve6(B).isConflict(); // SPC-2 §5.5.1
        h.release6(B).isConflict();
        h.reserve6(A).isConflict(); // registered, but there is no reservation to hold
        h.registerAndIgnore(A, 0).isGood();
        h.reserve6(B).isGood(); // back to SPC-2 rules
        h.release6(B).isGood();
    }

    @Test
    void reserve6FromTheHolderHasNoEffect() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KA, WE).isGood();
        h.reserve6(A).isGood(); // SPC-4 §5.13.3 a): GOOD, but nothing is reserved
        h.testUnitReady(C).isGood(); // an SPC-2 reservation would have blocked this
        h.release6(A).isGood(); // GOOD, and the persistent reservation stays
        assertThat(h.reservation(A)).containsExactly(KA, WE);
        h.reserve6(C).isConflict(); // C is neither holder nor registrant
    }

    @Test
    void reserve6FromARegistrantOfARegistrantsOnlyReservationHasNoEffect() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, WERO).isGood();
        h.reserve6(B).isGood(); // SPC-4 §5.13.3 b)
        h.release6(B).isGood();
        assertThat(h.reservation(A)).containsExactly(KA, WERO);
        h.release(A, KA, WERO).isGood();
        assertThat(h.unitAttention(B)).isEqualTo(SenseReason.RESERVATIONS_RELEASED);
        h.reserve6(B).isConflict(); // registered, no reservation any more
    }

    @Test
    void anSpc2ReservationMakesPersistentReserveCommandsConflict() {
        h.reserve6(A).isGood();
        // SPC-2 §5.5.1: "regardless of initiator or service action", the holder included.
        h.prin(A, READ_KEYS, 64).isConflict();
        h.prin(B, READ_KEYS, 64).isConflict();
        h.registerAndIgnore(A, KA).isConflict();
        h.registerAndIgnore(B, KB).isConflict();
        h.release6(A).isGood();
        h.registerAndIgnore(A, KA).isGood();
        assertThat(h.keys(B)).containsExactly(KA);
    }
}
