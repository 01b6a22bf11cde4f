package dev.apiary.iscsi.scsi;

/**
 * The one place sense bytes are written: fixed format (SPC-4 §4.5.3, response code 0x70) or, when
 * the control mode page sets D_SENSE, descriptor format (§4.5.2, response code 0x72) with an
 * information descriptor when needed.
 */
public final class SenseEncoder {
    private static final int FIXED_CURRENT = 0x70;
    private static final int DESCRIPTOR_CURRENT = 0x72;
    private static final int VALID = 0x80;
    private static final int SKSV = 0x80;
    private static final int CD = 0x40;

    private SenseEncoder() {}

    public static byte[] encode(SenseReason reason, boolean hasInformation, long information, boolean descriptor) {
        return encode(reason, hasInformation, information, -1, descriptor);
    }

    /**
     * With {@code cdbField} >= 0 the sense-key specific bytes carry a field pointer (SPC-4
     * §4.5.2.4.2: SKSV = 1, C/D = 1 for a CDB field) naming the CDB byte at fault.
     */
    static byte[] encode(SenseReason reason, boolean hasInformation, long information, int cdbField, boolean descriptor) {
        if (descriptor) {
            int extra = (hasInformation ? 12 : 0) + (cdbField >= 0 ? 8 : 0);
            byte[] s = new byte[8 + extra];
            s[0] = (byte) DESCRIPTOR_CURRENT;
            s[1] = (byte) reason.key.code;
            s[2] = (byte) reason.asc;
            s[3] = (byte) reason.ascq;
            s[7] = (byte) extra;
            if (hasInformation) {
                s[8] = 0x00; // information descriptor (§4.5.2.2)
                s[9] = 0x0a;
                s[10] = (byte) VALID;
                for (int i = 0; i < 8; i++) {
                    s[12 + i] = (byte) (information >>> (56 - 8 * i));
                }
            }
            if (cdbField >= 0) {
                int at = 8 + (hasInformation ? 12 : 0);
                s[at] = 0x02; // sense key specific descriptor (§4.5.2.4)
                s[at + 1] = 0x06;
                s[at + 4] = (byte) (SKSV | CD);
                s[at + 5] = (byte) (cdbField >>> 8);
                s[at + 6] = (byte) cdbField;
            }
            return s;
        }
        byte[] s = new byte[18];
        s[0] = (byte) (FIXED_CURRENT | (hasInformation ? VALID : 0));
        s[2] = (byte) reason.key.code;
        if (hasInformation) {
            s[3] = (byte) (information >>> 24);
            s[4] = (byte) (information >>> 16);
            s[5] = (byte) (information >>> 8);
            s[6] = (byte) information;
        }
        s[7] = 10; // additional sense length: bytes 8..17
        s[12] = (byte) reason.asc;
        s[13] = (byte) reason.ascq;
        if (cdbField >= 0) {
            s[15] = (byte) (SKSV | CD);
            s[16] = (byte) (cdbField >>> 8);
            s[17] = (byte) cdbField;
        }
        return s;
    }

    public static byte[] encode(SenseException e, boolean descriptor) {
        return encode(e.reason, e.hasInformation, e.information, e.cdbField, descriptor);
    }
}
