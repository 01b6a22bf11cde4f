package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.ScsiOpcode.*;

import java.util.EnumMap;
import java.util.Map;

/**
 * Which commands get through a persistent reservation held by another I_T nexus: SPC-4 §5.13.1
 * Table 65 (SPC commands) and SBC-4 §4.17 Table 13 (block commands), written down as data. Every
 * command of this target falls into one of three rows of those tables; the reservation type and
 * whether the sender is registered pick the column.
 *
 * <p>Where the tables leave a choice (footnote b: MODE SENSE, REPORT SUPPORTED OPERATION CODES and
 * TEST UNIT READY "may" conflict for SPC-2 era devices) this target takes the SPC-4 answer,
 * "allowed", and says so with ALLOW COMMANDS = 011b in REPORT CAPABILITIES (§6.15.4, Table 208).
 *
 * <p>Commands from a reservation holder are not looked up here: they always get through (§5.13.1).
 */
final class ReservationAccess {
    /** The ALLOW COMMANDS code matching the rows below (SPC-4 Table 208). */
    static final int ALLOW_COMMANDS = 0b011;

    /** The five columns of Table 65 / Table 13, in the standard's order. */
    enum Column {
        /** Write Exclusive, from any I_T nexus but the holder. */
        WRITE_EXCLUSIVE,
        /** Exclusive Access, from any I_T nexus but the holder. */
        EXCLUSIVE_ACCESS,
        /** Registrants only / all registrants, from a registered I_T nexus. */
        REGISTERED,
        /** Write Exclusive – registrants only / all registrants, from an unregistered I_T nexus. */
        UNREGISTERED_WRITE_EXCLUSIVE,
        /** Exclusive Access – registrants only / all registrants, from an unregistered I_T nexus. */
        UNREGISTERED_EXCLUSIVE_ACCESS
    }

    /** The three row patterns the tables use for this target's commands ("true" = Allowed). */
    enum Row {
        //      WE     EA     REG   UNREG-WE UNREG-EA
        ALLOWED(true, true, true, true, true),
        READ(true, false, true, true, false),
        WRITE(false, false, true, false, false);

        private final boolean[] allowed;

        Row(boolean... allowed) {
            this.allowed = allowed;
        }

        boolean allows(Column column) {
            return allowed[column.ordinal()];
        }
    }

    private static final Map<ScsiOpcode, Row> ROWS = new EnumMap<>(ScsiOpcode.class);

    static {
        // SPC-4 Table 65 and SBC-4 Table 13: allowed through every reservation.
        rows(Row.ALLOWED, INQUIRY, REPORT_LUNS, REQUEST_SENSE, TEST_UNIT_READY, READ_CAPACITY_10,
                READ_CAPACITY_16, REPORT_TARGET_PORT_GROUPS, PERSISTENT_RESERVE_IN);
        // Table 66: PERSISTENT RESERVE OUT is judged per service action by the action itself.
        // RESERVE/RELEASE: "as defined in SPC-2" with the §5.13.3 exceptions, done by Reservations.
        rows(Row.ALLOWED, PERSISTENT_RESERVE_OUT, RESERVE_6, RESERVE_10, RELEASE_6, RELEASE_10);
        // Reads of the medium or of device state: Allowed / Conflict / Allowed / Allowed / Conflict.
        rows(Row.READ, READ_6, READ_10, READ_12, READ_16, VERIFY_10, VERIFY_12, VERIFY_16, PREFETCH_10,
                PREFETCH_16, GET_LBA_STATUS, MODE_SENSE_6, MODE_SENSE_10, REPORT_SUPPORTED_OPCODES);
        // Changes to the medium or to device state: Conflict / Conflict / Allowed / Conflict / Conflict.
        rows(Row.WRITE, WRITE_6, WRITE_10, WRITE_12, WRITE_16, WRITE_AND_VERIFY_10, WRITE_AND_VERIFY_12,
                WRITE_AND_VERIFY_16, COMPARE_AND_WRITE, ORWRITE_16, WRITE_SAME_10, WRITE_SAME_16, UNMAP,
                SYNCHRONIZE_CACHE_10, SYNCHRONIZE_CACHE_16, MODE_SELECT_6, MODE_SELECT_10, START_STOP_UNIT);
    }

    private ReservationAccess() {}

    private static void rows(Row row, ScsiOpcode... ops) {
        for (ScsiOpcode op : ops) {
            if (ROWS.put(op, row) != null) {
                throw new IllegalStateException(op + " is in two rows");
            }
        }
    }

    /** Whether the table names this command; an unnamed one is treated as a write. */
    static boolean classified(ScsiOpcode op) {
        return ROWS.containsKey(op);
    }

    static Row row(ScsiOpcode op, byte[] cdb) {
        // SBC-4 Table 13: START STOP UNIT with START = 1 and POWER CONDITION = 0 (a spin-up) is
        // allowed through every reservation; any other START STOP UNIT is a write.
        if (op == START_STOP_UNIT && (cdb[4] & 0xf1) == 0x01) {
            return Row.ALLOWED;
        }
        return ROWS.getOrDefault(op, Row.WRITE);
    }

    static Column column(ReservationType type, boolean registered) {
        if (!type.registrantsRestricted()) {
            // Write Exclusive / Exclusive Access: registration gives a non-holder nothing.
            return type.access == ReservationType.Access.WRITE_EXCLUSIVE ? Column.WRITE_EXCLUSIVE : Column.EXCLUSIVE_ACCESS;
        }
        if (registered) {
            return Column.REGISTERED;
        }
        return type.access == ReservationType.Access.WRITE_EXCLUSIVE
                ? Column.UNREGISTERED_WRITE_EXCLUSIVE
                : Column.UNREGISTERED_EXCLUSIVE_ACCESS;
    }

    /** Whether a non-holder I_T nexus may run this command under a reservation of {@code type}. */
    static boolean allowed(ScsiOpcode op, byte[] cdb, ReservationType type, boolean registered) {
        return row(op, cdb).allows(column(type, registered));
    }
}
