package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.u16;
import static dev.apiary.iscsi.scsi.Cdb.u24;
import static dev.apiary.iscsi.scsi.Cdb.u32;
import static dev.apiary.iscsi.scsi.Cdb.u64;
import static dev.apiary.iscsi.scsi.Cdb.u8;
import static dev.apiary.iscsi.scsi.Command.now;

/**
 * Parse, then execute: the one switch on the operation code. Each case decodes only the LBA and
 * block count and picks the handler; the range and transfer-length checks are written once, after
 * the switch (LIO sbc_parse_cdb's check_lba, SBC-3 §4.5).
 */
final class CommandParser {
    /** Block Limits VPD MAXIMUM TRANSFER LENGTH, in bytes (SBC-3 §6.5.3). */
    static final int MAX_TRANSFER_BYTES = 32 << 20;

    private final LogicalUnit lu;
    private final BlockCommands block;
    private final DeviceCommands device;

    CommandParser(LogicalUnit lu, BlockCommands block, DeviceCommands device) {
        this.lu = lu;
        this.block = block;
        this.device = device;
    }

    Command parse(ScsiRequest r, ScsiOpcode op) throws SenseException {
        byte[] c = r.cdb();
        if (Cdb.naca(c, op.cdbLength)) {
            // SPC-4 §4.3.4.6: NACA = 1 needs ACA support, which this target does not claim (NormACA = 0).
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        Command cmd = switch (op) {
            // READ(6)/WRITE(6): 21-bit LBA; a transfer length of 0 means 256 blocks (SBC-3 §5.7, §5.28).
            case READ_6 -> rw(r, op, u24(c, 1) & 0x1fffff, len6(c), block::read);
            case WRITE_6 -> rw(r, op, u24(c, 1) & 0x1fffff, len6(c), block::write);
            case READ_10 -> rw(r, op, u32(c, 2), u16(c, 7), block::read);
            case READ_12 -> rw(r, op, u32(c, 2), u32(c, 6), block::read);
            case READ_16 -> rw(r, op, u64(c, 2), u32(c, 10), block::read);
            case WRITE_10 -> rw(r, op, u32(c, 2), u16(c, 7), block::write);
            case WRITE_12 -> rw(r, op, u32(c, 2), u32(c, 6), block::write);
            case WRITE_16 -> rw(r, op, u64(c, 2), u32(c, 10), block::write);
            case WRITE_AND_VERIFY_10 -> rw(r, op, u32(c, 2), u16(c, 7), block::writeAndVerify);
            case WRITE_AND_VERIFY_12 -> rw(r, op, u32(c, 2), u32(c, 6), block::writeAndVerify);
            case WRITE_AND_VERIFY_16 -> rw(r, op, u64(c, 2), u32(c, 10), block::writeAndVerify);
            case VERIFY_10 -> rw(r, op, u32(c, 2), u16(c, 7), now(block::verify));
            case VERIFY_12 -> rw(r, op, u32(c, 2), u32(c, 6), now(block::verify));
            case VERIFY_16 -> rw(r, op, u64(c, 2), u32(c, 10), now(block::verify));
            case ORWRITE_16 -> rw(r, op, u64(c, 2), u32(c, 10), now(block::orWrite));
            case COMPARE_AND_WRITE -> rw(r, op, u64(c, 2), u8(c, 13), now(block::compareAndWrite));
            case PREFETCH_10 -> ranged(r, op, u32(c, 2), u16(c, 7), block::prefetch);
            case PREFETCH_16 -> ranged(r, op, u64(c, 2), u32(c, 10), block::prefetch);
            case SYNCHRONIZE_CACHE_10 -> ranged(r, op, u32(c, 2), u16(c, 7), block::synchronizeCache);
            case SYNCHRONIZE_CACHE_16 -> ranged(r, op, u64(c, 2), u32(c, 10), block::synchronizeCache);
            case WRITE_SAME_10 -> ranged(r, op, u32(c, 2), u16(c, 7), block::writeSame);
            case WRITE_SAME_16 -> ranged(r, op, u64(c, 2), u32(c, 10), block::writeSame);
            case GET_LBA_STATUS -> ranged(r, op, u64(c, 2), 0, block::getLbaStatus);
            case UNMAP -> plain(r, op, block::unmap);
            case READ_CAPACITY_10 -> plain(r, op, block::readCapacity10);
            case READ_CAPACITY_16 -> plain(r, op, block::readCapacity16);
            case TEST_UNIT_READY -> plain(r, op, device::testUnitReady);
            case REQUEST_SENSE -> plain(r, op, device::requestSense);
            case INQUIRY -> plain(r, op, device::inquiry);
            case MODE_SENSE_6, MODE_SENSE_10 -> plain(r, op, device::modeSense);
            case MODE_SELECT_6, MODE_SELECT_10 -> plain(r, op, device::modeSelect);
            case START_STOP_UNIT -> plain(r, op, device::startStopUnit);
            case REPORT_SUPPORTED_OPCODES -> plain(r, op, device::reportSupportedOpcodes);
            case REPORT_TARGET_PORT_GROUPS -> plain(r, op, device::reportTargetPortGroups);
            case REPORT_LUNS -> throw new IllegalStateException("REPORT LUNS is answered by the LUN map");
            case RESERVE_6, RESERVE_10 -> plain(r, op, lu.reservations::reserve);
            case RELEASE_6, RELEASE_10 -> plain(r, op, lu.reservations::release);
            case PERSISTENT_RESERVE_IN -> plain(r, op, lu.reservations::persistentReserveIn);
            case PERSISTENT_RESERVE_OUT -> plain(r, op, lu.reservations::persistentReserveOut);
        };
        checkRange(cmd);
        return cmd;
    }

    private static long len6(byte[] c) {
        int n = u8(c, 4);
        return n == 0 ? 256 : n;
    }

    private Command rw(ScsiRequest r, ScsiOpcode op, long lba, long blocks, Command.Handler h) throws SenseException {
        if (blocks * lu.blockSize > MAX_TRANSFER_BYTES) {
            // SBC-3 §6.5.3: a transfer longer than MAXIMUM TRANSFER LENGTH is an invalid field.
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        return new Command(r, op, lba, blocks, true, h);
    }

    private static Command ranged(ScsiRequest r, ScsiOpcode op, long lba, long blocks, Command.Now h) {
        return new Command(r, op, lba, blocks, true, now(h));
    }

    private static Command plain(ScsiRequest r, ScsiOpcode op, Command.Now h) {
        return new Command(r, op, 0, 0, false, now(h));
    }

    /** SBC-3 §4.5: the whole range must lie inside the medium; written once for every command. */
    private void checkRange(Command cmd) throws SenseException {
        if (!cmd.ranged()) {
            return;
        }
        long capacity = lu.blocks();
        // Unsigned compare: an LBA of 2^63 or more is negative as a long and always out of range.
        if (Long.compareUnsigned(cmd.lba(), capacity) > 0 || cmd.blocks() > capacity - cmd.lba()) {
            throw new SenseException(SenseReason.LBA_OUT_OF_RANGE);
        }
    }
}
