package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.u32;
import static dev.apiary.iscsi.scsi.Cdb.u64;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongPredicate;

/**
 * Persistent reservations of one logical unit (SPC-4 §5.13): registrations per I_T nexus, the one
 * reservation, the PRgeneration counter, PERSISTENT RESERVE OUT (§6.16) and the state that
 * PERSISTENT RESERVE IN (§6.15, {@link PersistentReserveIn}) reports.
 *
 * <p>What this target supports, as REPORT CAPABILITIES tells it: the six types of
 * {@link ReservationType}; not SPEC_I_PT, ALL_TG_PT or APTPL (each set to one is INVALID FIELD IN
 * PARAMETER LIST, §6.16.3), nor REGISTER AND MOVE or REPLACE LOST RESERVATION (INVALID FIELD IN
 * CDB). State lives in memory: it survives I_T nexus loss and resets (§5.13.1) but not a restart.
 * PREEMPT AND ABORT preempts like PREEMPT; aborting the preempted nexuses' commands is the
 * transport's job, which it cannot be asked to do from here.
 *
 * <p>Not thread-safe: {@link Reservations} calls every method under its own lock, which makes each
 * service action the "single indivisible event" §5.13.1 asks for.
 */
final class PersistentReservations {
    /** The PERSISTENT RESERVE OUT basic parameter list is exactly this long (§6.16.1). */
    static final int PARAMETER_LIST_LENGTH = 24;
    /** Beyond this many registrations: INSUFFICIENT REGISTRATION RESOURCES (§5.13.7). */
    static final int MAX_REGISTRATIONS = 1024;

    private static final int SPEC_I_PT = 0x08;
    private static final int ALL_TG_PT = 0x04;
    private static final int APTPL = 0x01;

    /** PERSISTENT RESERVE OUT service actions (SPC-4 Table 213). */
    private static final int REGISTER = 0x00;
    private static final int RESERVE = 0x01;
    private static final int RELEASE = 0x02;
    private static final int CLEAR = 0x03;
    private static final int PREEMPT = 0x04;
    private static final int PREEMPT_AND_ABORT = 0x05;
    private static final int REGISTER_AND_IGNORE_EXISTING_KEY = 0x06;

    /** An I_T nexus as registrations know it: initiator port and target port (SAM-5 §4.6). */
    record ItNexus(String initiatorPort, String targetPort) {
        static ItNexus of(Nexus n) {
            return new ItNexus(n.initiatorPort(), n.targetPort());
        }
    }

    /** One registered I_T nexus and its reservation key; {@code nexus} is kept for READ FULL STATUS. */
    static final class Registration {
        final Nexus nexus;
        long key;

        Registration(Nexus nexus, long key) {
            this.nexus = nexus;
            this.key = key;
        }
    }

    /** The persistent reservation; {@code holder} is null for the all-registrants types (§5.13.10). */
    record Reservation(ReservationType type, ItNexus holder) {}

    private final UnitAttentions attentions;
    /** In registration order, which READ KEYS and READ FULL STATUS keep. */
    private final Map<ItNexus, Registration> registrations = new LinkedHashMap<>();
    private Reservation reservation;
    /** SPC-4 §6.15.2: a 32-bit wrapping counter, zero at power on. */
    private int generation;

    PersistentReservations(UnitAttentions attentions) {
        this.attentions = Objects.requireNonNull(attentions, "unit attentions");
    }

    // ---- state, for PERSISTENT RESERVE IN and the conflict checks -------------------------------

    int generation() {
        return generation;
    }

    Collection<Registration> registrations() {
        return registrations.values();
    }

    Reservation reservation() {
        return reservation;
    }

    /** The key READ RESERVATION reports: the holder's, or zero for all-registrants types (§5.13.10). */
    long reservationKey() {
        return reservation.holder() == null ? 0 : registrations.get(reservation.holder()).key;
    }

    boolean isHolder(Nexus n) {
        return isHolder(ItNexus.of(n));
    }

    private boolean isHolder(ItNexus n) {
        if (reservation == null) {
            return false;
        }
        return reservation.type().allRegistrants() ? registrations.containsKey(n) : n.equals(reservation.holder());
    }

    boolean isRegistered(Nexus n) {
        return registrations.containsKey(ItNexus.of(n));
    }

    boolean hasRegistrations() {
        return !registrations.isEmpty();
    }

    /** SPC-4 §5.13.1: a command from anyone but a holder meets Table 65 / SBC-4 Table 13. */
    boolean conflicts(Command c) {
        if (reservation == null || isHolder(c.nexus())) {
            return false;
        }
        return !ReservationAccess.allowed(c.op(), c.cdb(), reservation.type(), isRegistered(c.nexus()));
    }

    // ---- PERSISTENT RESERVE OUT (SPC-4 §6.16) ---------------------------------------------------

    ScsiResult serviceAction(Command c) throws SenseException {
        byte[] cdb = c.cdb();
        int action = Cdb.serviceAction(cdb);
        if (action > REGISTER_AND_IGNORE_EXISTING_KEY) {
            // REGISTER AND MOVE, REPLACE LOST RESERVATION (RLR_C = 0) and the reserved codes.
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        // §6.16.1: SCOPE and TYPE are checked where Table 216 says they are valid. PREEMPT checks them
        // only if it creates a reservation: removing registrations ignores them (§5.13.11.2.5).
        ReservationType type = action == RESERVE || action == RELEASE ? scopeAndType(cdb) : null;
        byte[] p = parameters(c.request(), u32(cdb, 5));
        long key = u64(p, 0);
        long serviceActionKey = u64(p, 8);
        boolean register = action == REGISTER || action == REGISTER_AND_IGNORE_EXISTING_KEY;
        if (register && (p[20] & (ALL_TG_PT | APTPL)) != 0) {
            // §6.16.3: a device server without ATP_C / PTPL_C refuses these bits set to one.
            throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST);
        }
        ItNexus me = ItNexus.of(c.nexus());
        Registration mine = registrations.get(me);
        if (action == REGISTER_AND_IGNORE_EXISTING_KEY) {
            return register(c.nexus(), mine, serviceActionKey); // Table 68
        }
        if (action == REGISTER) {
            // Table 67: an unregistered I_T nexus must send zero, a registered one its own key.
            if (mine == null ? key != 0 : key != mine.key) {
                return conflict();
            }
            return register(c.nexus(), mine, serviceActionKey);
        }
        // §5.13.7: every other service action needs a registered I_T nexus and its key (§6.16.3).
        if (mine == null || key != mine.key) {
            return conflict();
        }
        Map<String, SenseReason> ua = new LinkedHashMap<>();
        ScsiResult result = switch (action) {
            case RESERVE -> reserve(me, type);
            case RELEASE -> release(me, type, ua);
            case CLEAR -> clear(me, ua);
            case PREEMPT, PREEMPT_AND_ABORT -> preempt(me, serviceActionKey, cdb, ua);
            default -> throw new IllegalStateException("service action " + action);
        };
        ua.forEach(attentions::raise);
        return result;
    }

    /** §6.16.1, §6.16.3: exactly 24 bytes, SPEC_I_PT (SIP_C = 0) refused. */
    private static byte[] parameters(ScsiRequest r, long length) throws SenseException {
        if (length < PARAMETER_LIST_LENGTH) {
            throw new SenseException(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] p = DataIn.parameters(r, PARAMETER_LIST_LENGTH);
        if ((p[20] & SPEC_I_PT) != 0) {
            // Invalid for every service action but REGISTER, and unsupported for REGISTER.
            throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST);
        }
        if (length != PARAMETER_LIST_LENGTH) {
            throw new SenseException(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        return p;
    }

    /** §6.16.1: SCOPE must be LU_SCOPE (0h) and TYPE one this target supports. */
    private static ReservationType scopeAndType(byte[] cdb) throws SenseException {
        ReservationType type = ReservationType.of(cdb[2] & 0x0f);
        if ((cdb[2] & 0xf0) != 0 || type == null) {
            throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        }
        return type;
    }

    private static ScsiResult conflict() {
        return ScsiResult.status(ScsiStatus.RESERVATION_CONFLICT);
    }

    /** Tables 67 and 68 once the key checks pass: register, change the key, or unregister. */
    private ScsiResult register(Nexus nexus, Registration mine, long newKey) throws SenseException {
        if (mine == null) {
            if (newKey == 0) {
                return ScsiResult.good(0); // "do nothing except return GOOD status"
            }
            if (registrations.size() >= MAX_REGISTRATIONS) {
                throw new SenseException(SenseReason.INSUFFICIENT_REGISTRATION_RESOURCES);
            }
            registrations.put(ItNexus.of(nexus), new Registration(nexus, newKey));
        } else if (newKey == 0) {
            Map<String, SenseReason> ua = new LinkedHashMap<>();
            unregister(ItNexus.of(nexus), ua);
            ua.forEach(attentions::raise);
        } else {
            mine.key = newKey; // §5.13.7: no effect on the reservation
        }
        generation++;
        return ScsiResult.good(0);
    }

    /** §5.13.11.2.3 Unregistering, and Table 71 for what becomes of the reservation. */
    private void unregister(ItNexus me, Map<String, SenseReason> ua) {
        registrations.remove(me);
        if (reservation == null) {
            return;
        }
        if (reservation.type().allRegistrants()) {
            if (registrations.isEmpty()) {
                reservation = null; // the last holder is gone
            }
        } else if (me.equals(reservation.holder())) {
            ReservationType released = reservation.type();
            reservation = null;
            if (released.registrantsRestricted()) {
                notifyRegistrants(me, SenseReason.RESERVATIONS_RELEASED, ua);
            }
        }
    }

    /** §5.13.9 Reserving. PRgeneration is not incremented (Table 213). */
    private ScsiResult reserve(ItNexus me, ReservationType type) {
        if (reservation == null) {
            reservation = new Reservation(type, type.allRegistrants() ? null : me);
            return ScsiResult.good(0);
        }
        // The holder may repeat its own reservation; a different type, or anyone else, conflicts.
        return isHolder(me) && reservation.type() == type ? ScsiResult.good(0) : conflict();
    }

    /** §5.13.11.2.2 Releasing. PRgeneration is not incremented (Table 213). */
    private ScsiResult release(ItNexus me, ReservationType type, Map<String, SenseReason> ua)
            throws SenseException {
        if (reservation == null || !isHolder(me)) {
            return ScsiResult.good(0); // nothing released, nothing removed
        }
        if (reservation.type() != type) {
            throw new SenseException(SenseReason.INVALID_RELEASE_OF_PR);
        }
        reservation = null;
        if (type.registrantsRestricted()) {
            notifyRegistrants(me, SenseReason.RESERVATIONS_RELEASED, ua);
        }
        return ScsiResult.good(0);
    }

    /** §5.13.11.2.7 Clearing: the reservation and every registration go. */
    private ScsiResult clear(ItNexus me, Map<String, SenseReason> ua) {
        notifyRegistrants(me, SenseReason.RESERVATIONS_PREEMPTED, ua);
        registrations.clear();
        reservation = null;
        generation++;
        return ScsiResult.good(0);
    }

    /** §5.13.11.2.4 Preempting: Table 72 and Figure 9. */
    private ScsiResult preempt(ItNexus me, long victimKey, byte[] cdb, Map<String, SenseReason> ua)
            throws SenseException {
        Reservation old = reservation;
        boolean takesReservation = old != null
                && (old.type().allRegistrants() ? victimKey == 0 : victimKey == reservationKey());
        if (!takesReservation) {
            if (victimKey == 0 && old != null) {
                throw new SenseException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST); // Table 72
            }
            // §5.13.11.2.5 Removing registrations: SCOPE and TYPE are ignored; the requester's own
            // registration goes too if it has the key, but without a unit attention.
            List<ItNexus> removed = remove(null, k -> k == victimKey);
            if (removed.isEmpty()) {
                return conflict(); // the key names no registration
            }
            notify(removed, me, SenseReason.REGISTRATIONS_PREEMPTED, ua);
            if (old != null && old.type().allRegistrants() && registrations.isEmpty()) {
                reservation = null; // Table 71: the last registrant of an all-registrants type left
            }
            generation++;
            return ScsiResult.good(0);
        }
        // §5.13.11.2.4.3: replace the reservation; the requester keeps its registration.
        ReservationType type = scopeAndType(cdb);
        List<ItNexus> removed = old.type().allRegistrants()
                ? remove(me, k -> true) // AR with key zero: everyone else
                : remove(me, k -> k == victimKey);
        notify(removed, me, SenseReason.REGISTRATIONS_PREEMPTED, ua);
        reservation = new Reservation(type, type.allRegistrants() ? null : me);
        if (type != old.type()) {
            // f): the remaining registrants learn that the reservation they knew is gone.
            notifyRegistrants(me, SenseReason.RESERVATIONS_RELEASED, ua);
        }
        generation++;
        return ScsiResult.good(0);
    }

    /** Removes the registrations whose key matches, except that of {@code keep}; returns whose went. */
    private List<ItNexus> remove(ItNexus keep, LongPredicate key) {
        List<ItNexus> removed = new ArrayList<>();
        for (Iterator<Map.Entry<ItNexus, Registration>> i = registrations.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<ItNexus, Registration> e = i.next();
            if (!e.getKey().equals(keep) && key.test(e.getValue().key)) {
                removed.add(e.getKey());
                i.remove();
            }
        }
        return removed;
    }

    /** One unit attention per initiator port per event, never for the requesting I_T nexus. */
    private static void notify(List<ItNexus> who, ItNexus me, SenseReason reason, Map<String, SenseReason> ua) {
        for (ItNexus n : who) {
            if (!n.equals(me)) {
                ua.putIfAbsent(n.initiatorPort(), reason);
            }
        }
    }

    private void notifyRegistrants(ItNexus me, SenseReason reason, Map<String, SenseReason> ua) {
        notify(new ArrayList<>(registrations.keySet()), me, reason, ua);
    }

    // ---- SPC-2 RESERVE / RELEASE meeting persistent reservations (SPC-4 §5.13.3, CRH = 1) --------

    /** What a RESERVE(6/10) or RELEASE(6/10) from {@code n} does while persistent reservations exist. */
    enum Legacy {
        /** No registrations: the command is processed as SPC-2 defines it. */
        PROCESS,
        /** GOOD status, but nothing reserved or released (§5.13.3 a) and b)). */
        NO_EFFECT,
        /** SPC-2 §5.5.1: registrations exist, so RESERVE and RELEASE conflict. */
        CONFLICT
    }

    Legacy legacy(Nexus n) {
        if (registrations.isEmpty()) {
            return Legacy.PROCESS;
        }
        if (isHolder(n) || (reservation != null && reservation.type().registrantsRestricted() && isRegistered(n))) {
            return Legacy.NO_EFFECT;
        }
        return Legacy.CONFLICT;
    }
}
