package dev.apiary.iscsi.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.iscsi.scsi.PortGroups.Group;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ALUA (SPC-4 §5.15): one unit reached through two gateways, each its own target port group. What
 * REPORT TARGET PORT GROUPS reports, the unit attention an ownership change raises, and what each
 * access state serves.
 */
class AluaTest {
    @TempDir
    Path dir;

    ReservationHarness h;
    /** One initiator's two paths: through gateway 1 (group 1, port 1) and gateway 2 (group 2, port 2). */
    final Nexus viaOne = Nexus.iscsi("iqn.test:a", 1, ReservationHarness.TARGET, 1, 1);
    final Nexus viaTwo = Nexus.iscsi("iqn.test:a", 2, ReservationHarness.TARGET, 2, 2);
    static final byte[] TUR = new byte[16];
    static final byte[] RTPG = {(byte) 0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
    static final byte[] READ_CAPACITY_16 = {(byte) 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0};
    static final byte[] INQUIRY = {0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    @BeforeEach
    void open() throws Exception {
        h = new ReservationHarness(dir);
    }

    @AfterEach
    void close() throws Exception {
        h.close();
    }

    @Test
    void aUnitOnOneGatewayReportsThatPortsGroupActiveOptimized() {
        byte[] d = h.run(viaOne, RTPG, null, 1024).isGood().data();
        assertThat(Cdb.u32(d, 0)).as("RETURN DATA LENGTH: one descriptor with one port").isEqualTo(12);
        assertThat(d[4] & 0xff).as("PREF | active/optimized").isEqualTo(0x80);
        assertThat(Cdb.u16(d, 6)).as("group").isEqualTo(1);
        assertThat(Cdb.u16(d, 14)).as("relative port").isEqualTo(1);
        assertThat(tpgs(h.run(viaOne, INQUIRY, null, 36).isGood().data())).as("implicit ALUA").isEqualTo(1);
    }

    @Test
    void everyGatewaysGroupIsReportedWithTheUnitsStateThere() {
        h.lu.portGroups(owner(1));
        for (Nexus path : List.of(viaOne, viaTwo)) {
            h.run(path, TUR, null, 0).isGood();
            byte[] d = h.run(path, RTPG, null, 1024).isGood().data();
            assertThat(Cdb.u32(d, 0)).isEqualTo(24);
            assertThat(d[4] & 0xff).as("group 1: PREF | active/optimized").isEqualTo(0x80);
            assertThat(d[5] & 0xff).as("supported: T, U, S, AN, AO").isEqualTo(0x8f);
            assertThat(Cdb.u16(d, 6)).isEqualTo(1);
            assertThat(Cdb.u16(d, 14)).isEqualTo(1);
            assertThat(d[16] & 0xff).as("group 2: active/non-optimized").isEqualTo(0x01);
            assertThat(Cdb.u16(d, 18)).isEqualTo(2);
            assertThat(Cdb.u16(d, 26)).isEqualTo(2);
        }
        // Both paths serve the medium; the state only tells the initiator which to prefer.
        h.run(viaTwo, LogicalUnitTest.read16(0, 1), null, 512).isGood();
    }

    @Test
    void anOwnershipChangeIsAUnitAttentionOnEveryPathOnce() {
        h.lu.portGroups(owner(1));
        h.run(viaOne, TUR, null, 0).isGood();
        h.run(viaTwo, TUR, null, 0).isGood();

        h.lu.portGroups(owner(2)); // gateway 1 died: gateway 2 owns the unit now
        for (Nexus path : List.of(viaOne, viaTwo)) {
            h.run(path, TUR, null, 0).isCheck(SenseReason.ASYMMETRIC_ACCESS_STATE_CHANGED);
            h.run(path, TUR, null, 0).isGood();
        }
        byte[] d = h.run(viaTwo, RTPG, null, 1024).isGood().data();
        assertThat(d[4] & 0x0f).as("group 1 now non-optimized").isEqualTo(1);
        assertThat(d[16] & 0xff).as("group 2 now PREF | active/optimized").isEqualTo(0x80);

        h.lu.portGroups(owner(2)); // the same table again changes nothing
        h.run(viaOne, TUR, null, 0).isGood();
    }

    @Test
    void standbyAndUnavailablePortsRefuseTheMediumButAnswerWhatMultipathAsks() {
        h.run(viaTwo, TUR, null, 0).isGood();
        h.lu.portGroups(new PortGroups(List.of(new Group(1, AccessState.ACTIVE_OPTIMIZED, 1),
                new Group(2, AccessState.STANDBY, 2))));
        h.run(viaTwo, TUR, null, 0).isCheck(SenseReason.ASYMMETRIC_ACCESS_STATE_CHANGED);
        h.run(viaTwo, LogicalUnitTest.read16(0, 1), null, 512).isCheck(SenseReason.NOT_ACCESSIBLE_STANDBY);
        h.run(viaTwo, TUR, null, 0).isCheck(SenseReason.NOT_ACCESSIBLE_STANDBY);
        h.run(viaTwo, INQUIRY, null, 36).isGood();
        h.run(viaTwo, RTPG, null, 1024).isGood();
        h.run(viaTwo, READ_CAPACITY_16, null, 32).isGood();
        h.run(viaOne, LogicalUnitTest.read16(0, 1), null, 512).isGood();

        // A port the unit is not configured on (a third gateway) serves nothing of the medium.
        Nexus viaThree = Nexus.iscsi("iqn.test:a", 3, ReservationHarness.TARGET, 3, 3);
        h.run(viaThree, LogicalUnitTest.read16(0, 1), null, 512).isCheck(SenseReason.NOT_ACCESSIBLE_UNAVAILABLE);
        h.run(viaThree, READ_CAPACITY_16, null, 32).isCheck(SenseReason.NOT_ACCESSIBLE_UNAVAILABLE);
        h.run(viaThree, RTPG, null, 1024).isGood();
    }

    @Test
    void portGroupsNeedDistinctIdsAndPorts() {
        assertThatThrownBy(() -> new PortGroups(List.of(new Group(1, AccessState.ACTIVE_OPTIMIZED, 1),
                new Group(1, AccessState.ACTIVE_NON_OPTIMIZED, 2)))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PortGroups(List.of(new Group(1, AccessState.ACTIVE_OPTIMIZED, 1),
                new Group(2, AccessState.ACTIVE_NON_OPTIMIZED, 1)))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PortGroups(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Group(1, AccessState.ACTIVE_OPTIMIZED, 0))
                .as("relative port 0 is reserved (SPC-4 §7.8.6.7)").isInstanceOf(IllegalArgumentException.class);
    }

    /** Gateways 1 and 2; {@code gateway} owns the unit. */
    private static PortGroups owner(int gateway) {
        return new PortGroups(List.of(
                new Group(1, gateway == 1 ? AccessState.ACTIVE_OPTIMIZED : AccessState.ACTIVE_NON_OPTIMIZED, 1),
                new Group(2, gateway == 2 ? AccessState.ACTIVE_OPTIMIZED : AccessState.ACTIVE_NON_OPTIMIZED, 2)));
    }

    /** The TPGS field of standard INQUIRY data (byte 5, bits 5-4). */
    private static int tpgs(byte[] inquiry) {
        return (inquiry[5] >> 4) & 0x03;
    }
}
