package dev.apiary.iscsi.scsi;

/**
 * Reservations of one logical unit: SPC-2 RESERVE/RELEASE (SPC-2 §7.21, §7.17) and persistent
 * reservations (SPC-4 §5.13). Decides which commands meet a RESERVATION CONFLICT.
 */
final class Reservations {
    private final LogicalUnit lu;
    /** The initiator port holding an SPC-2 reservation, or null. */
    private String spc2Holder;

    Reservations(LogicalUnit lu) {
        this.lu = lu;
    }

    synchronized boolean conflicts(Command c) {
        if (spc2Holder == null || spc2Holder.equals(c.nexus().initiatorPort())) {
            return false;
        }
        // SPC-2 §5.5.1: under another nexus's reservation only INQUIRY, REPORT LUNS, REQUEST SENSE
        // and a RELEASE (which then does nothing) may run.
        return switch (c.op()) {
            case INQUIRY, REPORT_LUNS, REQUEST_SENSE, RELEASE_6, RELEASE_10 -> false;
            default -> true;
        };
    }

    /** SPC-2 §7.21: reserve the whole unit for this nexus (third-party and extents refused). */
    synchronized ScsiResult reserve(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        if ((cdb[1] & 0x01) != 0 || (c.op() == ScsiOpcode.RESERVE_10 && (cdb[1] & 0x10) != 0)) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB); // extents / 3RDPTY
        }
        String port = c.nexus().initiatorPort();
        if (spc2Holder != null && !spc2Holder.equals(port)) {
            return ScsiResult.status(ScsiStatus.RESERVATION_CONFLICT);
        }
        spc2Holder = port;
        return ScsiResult.good(0);
    }

    /** SPC-2 §7.17: releasing a reservation one does not hold is not an error and changes nothing. */
    synchronized ScsiResult release(Command c) throws SenseException {
        if ((c.cdb()[1] & 0x01) != 0 || (c.op() == ScsiOpcode.RELEASE_10 && (c.cdb()[1] & 0x10) != 0)) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        if (c.nexus().initiatorPort().equals(spc2Holder)) {
            spc2Holder = null;
        }
        return ScsiResult.good(0);
    }

    ScsiResult persistentReserveIn(Command c) throws SenseException {
        throw new SenseException(SenseReason.INVALID_OPCODE);
    }

    ScsiResult persistentReserveOut(Command c) throws SenseException {
        throw new SenseException(SenseReason.INVALID_OPCODE);
    }

    synchronized void resetSpc2() {
        spc2Holder = null;
    }

    synchronized void nexusLost(Nexus nexus) {
        if (nexus.initiatorPort().equals(spc2Holder)) {
            spc2Holder = null;
        }
    }
}
