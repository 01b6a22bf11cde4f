package dev.apiary.iscsi.scsi;

import static dev.apiary.iscsi.scsi.Cdb.u16;
import static dev.apiary.iscsi.scsi.Cdb.u8;

import java.io.ByteArrayOutputStream;

/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35), generated from {@link ScsiOpcode}: the list of
 * all commands, or one command with its CDB usage map.
 */
final class SupportedOpcodes {
    private static final int TIMEOUTS_LENGTH = 12;

    private SupportedOpcodes() {}

    static byte[] report(byte[] cdb) throws SenseException {
        boolean timeouts = (cdb[2] & 0x80) != 0; // RCTD
        int options = cdb[2] & 0x07;
        int opcode = u8(cdb, 3);
        int sa = u16(cdb, 4);
        return switch (options) {
            case 0 -> all(timeouts);
            case 1, 2, 3 -> one(options, opcode, sa, timeouts);
            default -> throw SenseException.invalidCdbField(2); // REPORTING OPTIONS
        };
    }

    private static byte[] all(boolean timeouts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[4]);
        for (ScsiOpcode o : ScsiOpcode.values()) {
            byte[] d = new byte[8];
            d[0] = (byte) o.code;
            if (o.serviceAction >= 0) {
                Cdb.put16(d, 2, o.serviceAction);
                d[5] = 0x01; // SERVACTV
            }
            if (timeouts) {
                d[5] |= 0x02; // CTDP
            }
            Cdb.put16(d, 6, o.cdbLength);
            b.writeBytes(d);
            if (timeouts) {
                b.writeBytes(timeoutsDescriptor());
            }
        }
        byte[] out = b.toByteArray();
        Cdb.put32(out, 0, out.length - 4);
        return out;
    }

    /**
     * Options 1: opcode without service action; 2: opcode and service action; 3: either (SPC-4
     * Table 198). Asking option 1 for a command that has service actions, or option 2 for one that
     * has none, is an invalid field.
     */
    private static byte[] one(int options, int opcode, int sa, boolean timeouts) throws SenseException {
        ScsiOpcode match = null;
        boolean hasServiceActions = false;
        for (ScsiOpcode o : ScsiOpcode.values()) {
            if (o.code != opcode) {
                continue;
            }
            hasServiceActions |= o.serviceAction >= 0;
            if (o.serviceAction < 0 || o.serviceAction == sa) {
                match = o;
            }
        }
        if ((options == 1 && hasServiceActions) || (options == 2 && !hasServiceActions && ScsiOpcode.knownCode(opcode))) {
            throw SenseException.invalidCdbField(2); // REPORTING OPTIONS does not fit the command
        }
        if (match == null || (options == 1 && match.serviceAction >= 0)) {
            byte[] d = new byte[4];
            d[1] = 0x01; // SUPPORT 001b: not supported
            return d;
        }
        byte[] usage = usage(match);
        byte[] d = new byte[4 + usage.length + (timeouts ? TIMEOUTS_LENGTH : 0)];
        d[1] = (byte) ((timeouts ? 0x80 : 0) | 0x03); // CTDP, SUPPORT 011b: supported as the standard says
        Cdb.put16(d, 2, usage.length);
        System.arraycopy(usage, 0, d, 4, usage.length);
        if (timeouts) {
            System.arraycopy(timeoutsDescriptor(), 0, d, 4 + usage.length, TIMEOUTS_LENGTH);
        }
        return d;
    }

    /**
     * The CDB usage data: the opcode, then a mask of the bits the command looks at. Fields are
     * reported whole; the control byte offers only NACA's neighbours that SAM defines (0x07).
     */
    private static byte[] usage(ScsiOpcode o) {
        byte[] u = new byte[o.cdbLength];
        u[0] = (byte) o.code;
        for (int i = 1; i < u.length - 1; i++) {
            u[i] = (byte) 0xff;
        }
        if (o.serviceAction >= 0) {
            u[1] = (byte) (0xe0 | o.serviceAction); // the service action field is fixed
        }
        u[u.length - 1] = 0x07;
        return u;
    }

    /** SPC-4 §6.35.4: no timeouts are recommended (zeros), descriptor length 0x0a. */
    private static byte[] timeoutsDescriptor() {
        byte[] t = new byte[TIMEOUTS_LENGTH];
        Cdb.put16(t, 0, 0x0a);
        return t;
    }
}
