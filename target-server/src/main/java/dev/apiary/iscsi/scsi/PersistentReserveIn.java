package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.put16;
import static dev.apiary.iscsi.scsi.Cdb.put32;
import static dev.apiary.iscsi.scsi.Cdb.put64;
import static dev.apiary.iscsi.scsi.Cdb.u16;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * PERSISTENT RESERVE IN (SPC-4 §6.15): the parameter data of its four service actions, built from
 * {@link PersistentReservations} state. Each response is built whole and then cut at the
 * ALLOCATION LENGTH; the length fields keep reporting the full size (§4.2.5.6).
 */
final class PersistentReserveIn {
    private static final int READ_KEYS = 0x00;
    private static final int READ_RESERVATION = 0x01;
    private static final int REPORT_CAPABILITIES = 0x02;
    private static final int READ_FULL_STATUS = 0x03;

    /** REPORT CAPABILITIES byte 2: CRH, since {@link Reservations} follows §5.13.3. */
    private static final int CRH = 0x10;
    /** REPORT CAPABILITIES byte 3: the type mask is valid. */
    private static final int TMV = 0x80;

    /** TransportID byte 0 (SPC-4 §7.6.4.6): protocol iSCSI (5h), format 00b name / 01b name+ISID. */
    private static final int ISCSI_NAME = 0x05;
    private static final int ISCSI_NAME_AND_ISID = 0x45;

    private PersistentReserveIn() {}

    static ScsiResult run(Command c, PersistentReservations pr) throws SenseException {
        byte[] data = switch (Cdb.serviceAction(c.cdb())) {
            case READ_KEYS -> readKeys(pr);
            case READ_RESERVATION -> readReservation(pr);
            case REPORT_CAPABILITIES -> reportCapabilities();
            case READ_FULL_STATUS -> readFullStatus(pr);
            default -> throw new SenseException(SenseReason.INVALID_FIELD_IN_CDB);
        };
        return DataIn.put(c.request(), data, u16(c.cdb(), 7));
    }

    /** §6.15.2: PRgeneration, ADDITIONAL LENGTH, then one 8-byte key per registered I_T nexus. */
    static byte[] readKeys(PersistentReservations pr) {
        byte[] b = new byte[8 + 8 * pr.registrations().size()];
        put32(b, 0, pr.generation());
        put32(b, 4, b.length - 8);
        int at = 8;
        for (PersistentReservations.Registration r : pr.registrations()) {
            put64(b, at, r.key);
            at += 8;
        }
        return b;
    }

    /** §6.15.3: the header, then a 16-byte reservation descriptor if there is a reservation. */
    static byte[] readReservation(PersistentReservations pr) {
        PersistentReservations.Reservation r = pr.reservation();
        byte[] b = new byte[r == null ? 8 : 24];
        put32(b, 0, pr.generation());
        if (r != null) {
            put32(b, 4, 16);
            put64(b, 8, pr.reservationKey()); // zero for all-registrants types (§5.13.10)
            b[21] = (byte) r.type().code; // SCOPE = LU_SCOPE (0h)
        }
        return b;
    }

    /**
     * §6.15.4: CRH = 1; SIP_C, ATP_C and PTPL_C = 0 (those bits are refused, see
     * {@link PersistentReservations}); ALLOW COMMANDS as {@link ReservationAccess} implements.
     */
    static byte[] reportCapabilities() {
        byte[] b = new byte[8];
        put16(b, 0, 8);
        b[2] = (byte) CRH;
        b[3] = (byte) (TMV | ReservationAccess.ALLOW_COMMANDS << 4); // PTPL_A = 0
        put16(b, 4, ReservationType.SUPPORTED_MASK);
        return b;
    }

    /** §6.15.5: one full status descriptor per registered I_T nexus (ALL_TG_PT is always 0). */
    static byte[] readFullStatus(PersistentReservations pr) {
        ByteArrayOutputStream descriptors = new ByteArrayOutputStream();
        for (PersistentReservations.Registration r : pr.registrations()) {
            byte[] transportId = transportId(r.nexus);
            byte[] d = new byte[24 + transportId.length];
            put64(d, 0, r.key);
            if (pr.isHolder(r.nexus)) {
                d[12] = 0x01; // R_HOLDER
                d[13] = (byte) pr.reservation().type().code; // SCOPE = LU_SCOPE (0h)
            }
            put16(d, 18, r.nexus.relativePort());
            put32(d, 20, transportId.length);
            System.arraycopy(transportId, 0, d, 24, transportId.length);
            descriptors.writeBytes(d);
        }
        byte[] b = new byte[8 + descriptors.size()];
        put32(b, 0, pr.generation());
        put32(b, 4, descriptors.size());
        System.arraycopy(descriptors.toByteArray(), 0, b, 8, descriptors.size());
        return b;
    }

    /**
     * The iSCSI TransportID of an initiator port (SPC-4 §7.6.4.6): format 01b carries the port name
     * "iqn...,i,0x" + ISID; the name is null-terminated and padded to a multiple of four bytes, at
     * least 24 in all.
     */
    static byte[] transportId(Nexus n) {
        String port = n.initiatorPort();
        boolean withIsid = port.contains(",i,0x");
        byte[] name = port.getBytes(StandardCharsets.UTF_8);
        int length = Math.max(24, (4 + name.length + 1 + 3) & ~3);
        byte[] t = new byte[length];
        t[0] = (byte) (withIsid ? ISCSI_NAME_AND_ISID : ISCSI_NAME);
        put16(t, 2, length - 4);
        System.arraycopy(name, 0, t, 4, name.length);
        return t;
    }
}
