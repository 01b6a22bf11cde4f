package dev.apiary.iscsi.scsi;

import java.util.HashMap;
import java.util.Map;

/**
 * The commands this target implements (SPC-4 §6, SBC-3 §5), as data: operation code, service
 * action, CDB length and how the command meets a reservation. REPORT SUPPORTED OPERATION CODES is
 * generated from this table (after LIO's target_opcode_descriptor), so it cannot drift from what
 * {@link CommandParser} accepts.
 */
public enum ScsiOpcode {
    TEST_UNIT_READY(0x00, -1, 6, Access.READ),
    REQUEST_SENSE(0x03, -1, 6, Access.ALWAYS),
    READ_6(0x08, -1, 6, Access.READ),
    WRITE_6(0x0a, -1, 6, Access.WRITE),
    INQUIRY(0x12, -1, 6, Access.ALWAYS),
    MODE_SELECT_6(0x15, -1, 6, Access.WRITE),
    RESERVE_6(0x16, -1, 6, Access.RESERVE),
    RELEASE_6(0x17, -1, 6, Access.RESERVE),
    MODE_SENSE_6(0x1a, -1, 6, Access.READ),
    START_STOP_UNIT(0x1b, -1, 6, Access.WRITE),
    READ_CAPACITY_10(0x25, -1, 10, Access.ALWAYS),
    READ_10(0x28, -1, 10, Access.READ),
    WRITE_10(0x2a, -1, 10, Access.WRITE),
    WRITE_AND_VERIFY_10(0x2e, -1, 10, Access.WRITE),
    VERIFY_10(0x2f, -1, 10, Access.READ),
    PREFETCH_10(0x34, -1, 10, Access.READ),
    SYNCHRONIZE_CACHE_10(0x35, -1, 10, Access.WRITE),
    WRITE_SAME_10(0x41, -1, 10, Access.WRITE),
    UNMAP(0x42, -1, 10, Access.WRITE),
    MODE_SELECT_10(0x55, -1, 10, Access.WRITE),
    RESERVE_10(0x56, -1, 10, Access.RESERVE),
    RELEASE_10(0x57, -1, 10, Access.RESERVE),
    MODE_SENSE_10(0x5a, -1, 10, Access.READ),
    PERSISTENT_RESERVE_IN(0x5e, -1, 10, Access.ALWAYS),
    PERSISTENT_RESERVE_OUT(0x5f, -1, 10, Access.PERSISTENT_RESERVE_OUT),
    READ_16(0x88, -1, 16, Access.READ),
    COMPARE_AND_WRITE(0x89, -1, 16, Access.WRITE),
    WRITE_16(0x8a, -1, 16, Access.WRITE),
    ORWRITE_16(0x8b, -1, 16, Access.WRITE),
    WRITE_AND_VERIFY_16(0x8e, -1, 16, Access.WRITE),
    VERIFY_16(0x8f, -1, 16, Access.READ),
    PREFETCH_16(0x90, -1, 16, Access.READ),
    SYNCHRONIZE_CACHE_16(0x91, -1, 16, Access.WRITE),
    WRITE_SAME_16(0x93, -1, 16, Access.WRITE),
    READ_CAPACITY_16(0x9e, 0x10, 16, Access.ALWAYS),
    GET_LBA_STATUS(0x9e, 0x12, 16, Access.READ),
    REPORT_LUNS(0xa0, -1, 12, Access.ALWAYS),
    REPORT_TARGET_PORT_GROUPS(0xa3, 0x0a, 12, Access.ALWAYS),
    REPORT_SUPPORTED_OPCODES(0xa3, 0x0c, 12, Access.ALWAYS),
    READ_12(0xa8, -1, 12, Access.READ),
    WRITE_12(0xaa, -1, 12, Access.WRITE),
    WRITE_AND_VERIFY_12(0xae, -1, 12, Access.WRITE),
    VERIFY_12(0xaf, -1, 12, Access.READ);

    /**
     * How a command meets a reservation held by another I_T nexus (SPC-4 §5.13.1 Table 66 for
     * persistent reservations; SPC-2 §5.5.1 for RESERVE/RELEASE).
     */
    public enum Access {
        /** Allowed whatever reservation exists (INQUIRY, REPORT LUNS, ...). */
        ALWAYS,
        /** Reads the medium: blocked by exclusive-access reservations. */
        READ,
        /** Changes the medium or its state: blocked by any reservation not held. */
        WRITE,
        /** RESERVE/RELEASE(6/10): their own rules (SPC-2 §7.21). */
        RESERVE,
        /** PERSISTENT RESERVE OUT: allowed; the service action decides (SPC-4 §5.13). */
        PERSISTENT_RESERVE_OUT
    }

    private static final Map<Integer, ScsiOpcode> BY_CODE = new HashMap<>();

    static {
        for (ScsiOpcode o : values()) {
            BY_CODE.put(key(o.code, o.serviceAction), o);
        }
    }

    public final int code;
    public final int serviceAction;
    public final int cdbLength;
    public final Access access;

    ScsiOpcode(int code, int serviceAction, int cdbLength, Access access) {
        this.code = code;
        this.serviceAction = serviceAction;
        this.cdbLength = cdbLength;
        this.access = access;
    }

    private static int key(int code, int sa) {
        return code << 8 | (sa & 0xff);
    }

    /** The command for a CDB, or null if this target does not implement it. */
    public static ScsiOpcode of(byte[] cdb) {
        int code = cdb[0] & 0xff;
        ScsiOpcode plain = BY_CODE.get(key(code, -1));
        return plain != null ? plain : BY_CODE.get(key(code, cdb[1] & 0x1f));
    }

    /** READ or WRITE (6, 10, 12, 16): the data path, without a verify or a compare. */
    public boolean plainReadOrWrite() {
        return switch (this) {
            case READ_6, READ_10, READ_12, READ_16, WRITE_6, WRITE_10, WRITE_12, WRITE_16 -> true;
            default -> false;
        };
    }

    /** Whether some command uses this operation code (with any service action). */
    public static boolean knownCode(int code) {
        for (ScsiOpcode o : values()) {
            if (o.code == code) {
                return true;
            }
        }
        return false;
    }
}
