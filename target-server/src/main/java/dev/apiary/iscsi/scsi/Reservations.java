package dev.apiary.iscsi.scsi;

/**
 * Reservations of one logical unit: SPC-2 RESERVE/RELEASE (SPC-2 §7.21, §7.17) and persistent
 * reservations (SPC-4 §5.13, {@link PersistentReservations}). Decides which commands meet a
 * RESERVATION CONFLICT.
 *
 * <p>The two kinds never coexist. While an SPC-2 reservation is held, every PERSISTENT RESERVE
 * IN/OUT conflicts (SPC-2 §5.5.1); while any I_T nexus is registered, RESERVE and RELEASE follow
 * SPC-4 §5.13.3 (CRH = 1): no effect for a holder or a registrant under a registrants-only /
 * all-registrants reservation, a conflict for everyone else.
 *
 * <p>Commands from many sessions arrive on many threads: every method holds this object's lock, so
 * each reservation action is indivisible (SPC-4 §5.13.1).
 */
final class Reservations {
    private final PersistentReservations persistent;
    /** The initiator port holding an SPC-2 reservation, or null. */
    private String spc2Holder;

    Reservations(LogicalUnit lu) {
        // LogicalUnit declares its attentions field before this one, so it is set by now.
        this.persistent = new PersistentReservations(lu.attentions);
    }

    synchronized boolean conflicts(Command c) {
        if (spc2Holder == null) {
            return persistent.conflicts(c);
        }
        if (c.op() == ScsiOpcode.PERSISTENT_RESERVE_IN || c.op() == ScsiOpcode.PERSISTENT_RESERVE_OUT) {
            // SPC-2 §5.5.1: these conflict "regardless of initiator or service action".
            return true;
        }
        if (spc2Holder.equals(c.nexus().initiatorPort())) {
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
        ScsiResult underPersistent = legacy(c.nexus());
        if (underPersistent != null) {
            return underPersistent;
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
        ScsiResult underPersistent = legacy(c.nexus());
        if (underPersistent != null) {
            return underPersistent;
        }
        if (c.nexus().initiatorPort().equals(spc2Holder)) {
            spc2Holder = null;
        }
        return ScsiResult.good(0);
    }

    /** SPC-4 §5.13.3: how RESERVE/RELEASE end while registrations exist; null when SPC-2 rules apply. */
    private ScsiResult legacy(Nexus n) {
        return switch (persistent.legacy(n)) {
            case NO_EFFECT -> ScsiResult.good(0);
            case CONFLICT -> ScsiResult.status(ScsiStatus.RESERVATION_CONFLICT);
            case PROCESS -> null;
        };
    }

    /** SPC-4 §6.15: READ KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS. */
    synchronized ScsiResult persistentReserveIn(Command c) throws SenseException {
        return PersistentReserveIn.run(c, persistent);
    }

    /** SPC-4 §6.16: REGISTER, RESERVE, RELEASE, CLEAR, PREEMPT (AND ABORT), REGISTER AND IGNORE. */
    synchronized ScsiResult persistentReserveOut(Command c) throws SenseException {
        return persistent.serviceAction(c);
    }

    /** A reset ends SPC-2 reservations; persistent ones survive it (SPC-4 §5.13.1). */
    synchronized void resetSpc2() {
        spc2Holder = null;
    }

    /** I_T nexus loss ends its SPC-2 reservation; registrations and persistent reservations stay. */
    synchronized void nexusLost(Nexus nexus) {
        if (nexus.initiatorPort().equals(spc2Holder)) {
            spc2Holder = null;
        }
    }
}
