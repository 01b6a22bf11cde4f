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
import org.junit.jupiter.params.provider.ValueSource;

/** PERSISTENT RESERVE OUT service actions, PRgeneration and the unit attentions they raise (SPC-4 §5.13). */
class PersistentReservationsTest {
    private static final Nexus A = nexus("iqn.2026-11.test:a", 0x800000000001L);
    private static final Nexus B = nexus("iqn.2026-11.test:b", 0x800000000002L);
    private static final Nexus C = nexus("iqn.2026-11.test:c", 0x800000000003L);
    private static final long KA = 0x1111L, KB = 0x2222L, KC = 0x3333L;

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

    @Test
    void registerAndIgnoreRegistersChangesAndUnregisters() {
        h.registerAndIgnore(A, KA).isGood();
        assertThat(h.keys(A)).containsExactly(KA);
        h.registerAndIgnore(A, KB).isGood(); // Table 68: the existing key is ignored and replaced
        assertThat(h.keys(A)).containsExactly(KB);
        h.registerAndIgnore(A, 0).isGood();
        assertThat(h.keys(A)).isEmpty();
        h.registerAndIgnore(A, 0).isGood(); // unregistered, zero: nothing happens
        assertThat(h.generation(A)).isEqualTo(3);
    }

    @Test
    void registerChecksTheReservationKey() {
        h.register(A, 5, KA).isConflict(); // unregistered I_T nexus must send zero (Table 67)
        h.register(A, 0, 0).isGood(); // "do nothing except return GOOD status"
        assertThat(h.keys(A)).isEmpty();
        assertThat(h.generation(A)).isZero();

        h.register(A, 0, KA).isGood();
        h.register(A, 0, KA + 1).isConflict(); // libiscsi ProutRegister.Simple: re-register with 0
        h.register(A, KB, KA + 1).isConflict();
        h.register(A, KA, KB).isGood(); // change the key
        assertThat(h.keys(B)).containsExactly(KB);
        h.register(A, KB, 0).isGood(); // unregister
        assertThat(h.keys(B)).isEmpty();
        assertThat(h.generation(A)).isEqualTo(3); // the conflicts did not count
    }

    @Test
    void registrationsArePerInitiatorPortAndTargetPort() {
        Nexus sameNameOtherIsid = nexus("iqn.2026-11.test:a", 0x800000000009L);
        Nexus sameInitiatorOtherTargetPort = Nexus.iscsi("iqn.2026-11.test:a", 0x800000000001L, TARGET, 2, 2);
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(sameNameOtherIsid, KA, EA).isConflict(); // not registered: a different I_T nexus
        h.registerAndIgnore(sameNameOtherIsid, KA).isGood();
        h.registerAndIgnore(sameInitiatorOtherTargetPort, KA).isGood();
        assertThat(h.keys(A)).containsExactly(KA, KA, KA);
        h.reserve(A, KA, EA).isGood();
        h.read10(sameNameOtherIsid).isConflict();
        h.read10(sameInitiatorOtherTargetPort).isConflict();
        h.read10(A).isGood();
    }

    @Test
    void otherServiceActionsNeedARegisteredNexusAndItsKey() {
        h.reserve(A, 0, EA).isConflict();
        h.release(A, 0, EA).isConflict();
        h.clear(A, 0).isConflict();
        h.preempt(A, 0, KB, EA).isConflict();
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KB, EA).isConflict();
        h.release(A, KB, EA).isConflict();
        h.clear(A, KB).isConflict();
        h.preempt(A, KB, KA, EA).isConflict();
        assertThat(h.reservation(A)).isNull();
        assertThat(h.keys(A)).containsExactly(KA);
    }

    @ParameterizedTest
    @ValueSource(ints = {WE, EA, WERO, EARO, WEAR, EAAR})
    void reserveReportAndReleaseEachType(int type) {
        h.registerAndIgnore(A, KA).isGood();
        long generation = h.generation(A);
        h.reserve(A, KA, type).isGood();
        boolean allRegistrants = type == WEAR || type == EAAR;
        // SPC-4 §5.13.10: READ RESERVATION reports key zero for the all-registrants types.
        assertThat(h.reservation(A)).containsExactly(allRegistrants ? 0 : KA, type);
        h.reserve(A, KA, type).isGood(); // the holder may repeat it
        h.release(A, KA, type).isGood();
        assertThat(h.reservation(A)).isNull();
        assertThat(h.generation(A)).as("RESERVE and RELEASE leave PRgeneration alone").isEqualTo(generation);
        assertThat(h.keys(A)).containsExactly(KA); // RELEASE removes no registration
    }

    @Test
    void onlyOneReservationAtATime() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, WE).isGood();
        h.reserve(A, KA, EA).isConflict(); // the holder may not change the type
        h.reserve(B, KB, WE).isConflict(); // nor may anyone else reserve
        assertThat(h.reservation(B)).containsExactly(KA, WE);
    }

    @Test
    void allRegistrantsAreHoldersOfAnAllRegistrantsReservation() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, EAAR).isGood();
        h.reserve(B, KB, EAAR).isGood(); // B is a holder too: same type is no error
        h.reserve(B, KB, WEAR).isConflict();
        h.release(B, KB, EAAR).isGood(); // any holder releases it
        assertThat(h.reservation(B)).isNull();
        assertThat(h.unitAttention(A)).isEqualTo(SenseReason.RESERVATIONS_RELEASED);
        assertThat(h.unitAttention(B)).isNull();
    }

    @Test
    void releaseRules() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.release(A, KA, WE).isGood(); // no reservation: GOOD, nothing happens
        h.reserve(A, KA, WE).isGood();
        h.release(A, KA, EA).isCheck(SenseReason.INVALID_RELEASE_OF_PR); // 0x05/0x26/0x04
        h.release(B, KB, WE).isGood(); // a registered non-holder: GOOD, reservation stays
        assertThat(h.reservation(A)).containsExactly(KA, WE);
        h.release(A, KA, WE).isGood();
        assertThat(h.reservation(A)).isNull();
        // §5.13.11.2.2 e): releasing a Write Exclusive reservation raises no unit attention.
        assertThat(h.unitAttention(B)).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {WERO, EARO, WEAR, EAAR})
    void releasingARegistrantsTypeTellsTheOtherRegistrants(int type) {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.testUnitReady(C).isGood(); // known to the unit but not registered
        h.reserve(A, KA, type).isGood();
        h.release(A, KA, type).isGood();
        assertThat(h.unitAttention(B)).isEqualTo(SenseReason.RESERVATIONS_RELEASED);
        assertThat(h.unitAttention(B)).as("one per event").isNull();
        assertThat(h.unitAttention(A)).isNull();
        assertThat(h.unitAttention(C)).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {WE, EA, WERO, EARO})
    void unregisteringTheHolderReleasesTheReservation(int type) {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, type).isGood();
        h.register(A, KA, 0).isGood();
        assertThat(h.reservation(A)).isNull();
        // §5.13.11.2.3: only the registrants-only types tell the other registrants.
        boolean registrantsOnly = type == WERO || type == EARO;
        assertThat(h.unitAttention(B)).isEqualTo(registrantsOnly ? SenseReason.RESERVATIONS_RELEASED : null);
        h.write10(B).isGood();
    }

    @ParameterizedTest
    @ValueSource(ints = {WEAR, EAAR})
    void anAllRegistrantsReservationLastsWhileAnyRegistrantRemains(int type) {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, type).isGood();
        h.register(A, KA, 0).isGood();
        assertThat(h.reservation(A)).containsExactly(0L, (long) type); // libiscsi Ownership{EAAR,WEAR}
        h.write10(A).isConflict(); // A is no longer a registrant
        h.write10(B).isGood();
        h.registerAndIgnore(B, 0).isGood(); // the last registrant leaves
        assertThat(h.reservation(A)).isNull();
        h.write10(A).isGood();
    }

    @Test
    void clearRemovesEverythingAndCountsOnce() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.testUnitReady(C).isGood();
        long generation = h.generation(A);
        h.reserve(A, KA, EA).isGood();
        h.clear(A, KA).isGood();
        assertThat(h.reservation(A)).isNull();
        assertThat(h.keys(A)).isEmpty();
        assertThat(h.generation(A)).isEqualTo(generation + 1); // libiscsi ProutClear.Simple
        assertThat(h.unitAttention(B)).isEqualTo(SenseReason.RESERVATIONS_PREEMPTED);
        assertThat(h.unitAttention(A)).isNull();
        assertThat(h.unitAttention(C)).isNull(); // C was not registered
    }

    @Test
    void preemptWithoutAReservationRemovesRegistrations() {
        // libiscsi ProutPreempt.RemoveRegistration
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.registerAndIgnore(C, KA).isGood(); // a second I_T nexus with the same key
        long generation = h.generation(A);
        h.preempt(B, KB, KA, EA).isGood();
        assertThat(h.keys(B)).containsExactly(KB);
        assertThat(h.generation(B)).isEqualTo(generation + 1);
        assertThat(h.reservation(B)).isNull(); // no reservation created
        h.testUnitReady(A).isCheck(SenseReason.REGISTRATIONS_PREEMPTED);
        h.testUnitReady(A).isGood();
        assertThat(h.unitAttention(C)).isEqualTo(SenseReason.REGISTRATIONS_PREEMPTED);
        assertThat(h.unitAttention(B)).isNull();
    }

    @Test
    void preemptRejectsUnknownAndZeroKeys() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        long generation = h.generation(A);
        h.preempt(B, KB, KC, EA).isConflict(); // names no registration (§5.13.11.2.5)
        h.preempt(B, KB, 0, EA).isConflict(); // no reservation: zero names no registration
        h.reserve(A, KA, WE).isGood();
        h.preempt(B, KB, 0, EA).isCheck(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST); // Table 72
        h.preempt(B, KB, KA, 0).isCheck(SenseReason.INVALID_FIELD_IN_CDB); // would create type 0
        assertThat(h.generation(A)).isEqualTo(generation);
        assertThat(h.reservation(A)).containsExactly(KA, WE);
    }

    @Test
    void preemptTakesOverTheReservation() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.registerAndIgnore(C, KC).isGood();
        h.reserve(A, KA, EA).isGood();
        long generation = h.generation(B);
        h.preempt(B, KB, KA, WE).isGood();
        assertThat(h.reservation(B)).containsExactly(KB, WE);
        assertThat(h.keys(B)).containsExactly(KB, KC);
        assertThat(h.generation(B)).isEqualTo(generation + 1);
        // §5.13.11.2.4.3 e) and f): A lost its registration, C learns the type changed.
        assertThat(h.unitAttention(A)).isEqualTo(SenseReason.REGISTRATIONS_PREEMPTED);
        assertThat(h.unitAttention(A)).isNull();
        assertThat(h.unitAttention(C)).isEqualTo(SenseReason.RESERVATIONS_RELEASED);
        assertThat(h.unitAttention(B)).isNull();
        h.write10(C).isConflict();
        h.write10(B).isGood();
    }

    @Test
    void preemptKeepingTheTypeRaisesNoReleasedAttention() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.registerAndIgnore(C, KC).isGood();
        h.reserve(A, KA, WERO).isGood();
        h.run(B, proutCdb(PREEMPT_AND_ABORT, WERO, 24), parameters(KB, KA, 0), 0).isGood(); // = PREEMPT
        assertThat(h.reservation(B)).containsExactly(KB, WERO);
        assertThat(h.unitAttention(A)).isEqualTo(SenseReason.REGISTRATIONS_PREEMPTED);
        assertThat(h.unitAttention(C)).isNull();
    }

    @Test
    void theHolderMayPreemptItselfToChangeTheType() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KA, WE).isGood();
        h.preempt(A, KA, KA, EA).isGood();
        assertThat(h.reservation(A)).containsExactly(KA, EA);
        assertThat(h.keys(A)).containsExactly(KA); // the requester keeps its registration
    }

    @Test
    void preemptOfAnAllRegistrantsReservationWithKeyZeroRemovesEveryoneElse() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.registerAndIgnore(C, KC).isGood();
        h.reserve(A, KA, WEAR).isGood();
        h.preempt(B, KB, 0, EA).isGood();
        assertThat(h.keys(B)).containsExactly(KB);
        assertThat(h.reservation(B)).containsExactly(KB, EA);
        assertThat(h.unitAttention(A)).isEqualTo(SenseReason.REGISTRATIONS_PREEMPTED);
        assertThat(h.unitAttention(C)).isEqualTo(SenseReason.REGISTRATIONS_PREEMPTED);
    }

    @Test
    void preemptOfAnAllRegistrantsReservationWithAKeyOnlyRemovesRegistrations() {
        h.registerAndIgnore(A, KA).isGood();
        h.registerAndIgnore(B, KB).isGood();
        h.reserve(A, KA, EAAR).isGood();
        h.preempt(B, KB, KA, WE).isGood(); // Table 72: "remove registrations"
        assertThat(h.keys(B)).containsExactly(KB);
        assertThat(h.reservation(B)).containsExactly(0L, (long) EAAR);
        h.preempt(B, KB, KB, WE).isGood(); // removing itself, the last registrant, ends it
        assertThat(h.keys(B)).isEmpty();
        assertThat(h.reservation(B)).isNull();
        assertThat(h.unitAttention(B)).as("never for the requester").isNull();
    }

    @Test
    void nexusLossAndResetsLeavePersistentReservationsAlone() {
        h.registerAndIgnore(A, KA).isGood();
        h.reserve(A, KA, EA).isGood();
        h.lu.nexusLost(A);
        h.lu.reset();
        assertThat(h.reservation(B)).containsExactly(KA, EA);
        h.read10(B).isConflict();
        // A's nexus was gone before the reset, so it had no unit attention queue to receive one.
        assertThat(h.unitAttention(A)).isNull();
        h.read10(A).isGood();
    }

    @Test
    void registrationsAreLimited() {
        for (int i = 0; i < PersistentReservations.MAX_REGISTRATIONS; i++) {
            h.registerAndIgnore(nexus("iqn.2026-11.test:many", i), i + 1).isGood();
        }
        h.registerAndIgnore(A, KA).isCheck(SenseReason.INSUFFICIENT_REGISTRATION_RESOURCES); // 0x55/0x04
        h.registerAndIgnore(nexus("iqn.2026-11.test:many", 0), 7).isGood(); // changing a key still works
    }

    @Test
    void concurrentRegistrationsAreIndivisible() throws InterruptedException {
        int threads = 8, rounds = 200;
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            Nexus n = nexus("iqn.2026-11.test:thread", t);
            workers[t] = new Thread(() -> {
                for (int i = 1; i <= rounds; i++) {
                    h.registerAndIgnore(n, i).isGood();
                    h.register(n, i, 0).isGood();
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        assertThat(h.keys(A)).isEmpty();
        assertThat(h.generation(A)).isEqualTo(2L * threads * rounds);
    }
}
