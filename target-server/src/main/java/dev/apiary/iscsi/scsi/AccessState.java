package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.ScsiOpcode.INQUIRY;
import static dev.apiary.iscsi.scsi.ScsiOpcode.MODE_SELECT_10;
import static dev.apiary.iscsi.scsi.ScsiOpcode.MODE_SELECT_6;
import static dev.apiary.iscsi.scsi.ScsiOpcode.MODE_SENSE_10;
import static dev.apiary.iscsi.scsi.ScsiOpcode.MODE_SENSE_6;
import static dev.apiary.iscsi.scsi.ScsiOpcode.PERSISTENT_RESERVE_IN;
import static dev.apiary.iscsi.scsi.ScsiOpcode.PERSISTENT_RESERVE_OUT;
import static dev.apiary.iscsi.scsi.ScsiOpcode.READ_CAPACITY_16;
import static dev.apiary.iscsi.scsi.ScsiOpcode.REPORT_LUNS;
import static dev.apiary.iscsi.scsi.ScsiOpcode.REPORT_SUPPORTED_OPCODES;
import static dev.apiary.iscsi.scsi.ScsiOpcode.REPORT_TARGET_PORT_GROUPS;
import static dev.apiary.iscsi.scsi.ScsiOpcode.REQUEST_SENSE;

import java.util.EnumSet;
import java.util.Set;

/**
 * Asymmetric access states of a target port group (SPC-4 §5.15.2.4, codes of Table 166), with the
 * commands each serves and the sense a refused command gets. The gateway that owns a unit serves
 * it active/optimized; the others active/non-optimized, so a multipath initiator (dm-multipath,
 * {@code prio alua}) sends its I/O to the owner and keeps the others as paths to fail over to.
 * What the other states serve follows SPC-4 §5.15.2.4.4-6 as LIO's core_alua_state_* do.
 */
public enum AccessState {
    ACTIVE_OPTIMIZED(0x0, null, Set.of()),
    ACTIVE_NON_OPTIMIZED(0x1, null, Set.of()),
    STANDBY(0x2, SenseReason.NOT_ACCESSIBLE_STANDBY, EnumSet.of(INQUIRY, MODE_SENSE_6, MODE_SENSE_10, MODE_SELECT_6,
            MODE_SELECT_10, REPORT_LUNS, REPORT_TARGET_PORT_GROUPS, REPORT_SUPPORTED_OPCODES, REQUEST_SENSE,
            PERSISTENT_RESERVE_IN, PERSISTENT_RESERVE_OUT, READ_CAPACITY_16)),
    UNAVAILABLE(0x3, SenseReason.NOT_ACCESSIBLE_UNAVAILABLE, EnumSet.of(INQUIRY, REPORT_LUNS,
            REPORT_TARGET_PORT_GROUPS, REPORT_SUPPORTED_OPCODES, REQUEST_SENSE)),
    TRANSITIONING(0xf, SenseReason.NOT_ACCESSIBLE_TRANSITIONING, EnumSet.of(INQUIRY, REPORT_LUNS,
            REPORT_TARGET_PORT_GROUPS, REQUEST_SENSE));

    public final int code;
    /** Why a command outside {@link #serves} is refused; null where every command is served. */
    private final SenseReason refusal;
    private final Set<ScsiOpcode> serves;

    AccessState(int code, SenseReason refusal, Set<ScsiOpcode> serves) {
        this.code = code;
        this.refusal = refusal;
        this.serves = serves;
    }

    /** Refuses {@code op} through a port in this state with NOT READY and the state's ASCQ. */
    void check(ScsiOpcode op) throws SenseException {
        if (refusal != null && !serves.contains(op)) {
            throw new SenseException(refusal);
        }
    }
}
