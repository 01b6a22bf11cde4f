package dev.apiary.iscsi.scsi;

/**
 * Named views of CDB fields (SBC-3 §5, SPC-4 §6), so handlers say {@code Cdb.fua(cdb)} rather than
 * testing {@code cdb[1] & 0x08}.
 */
public final class Cdb {
    private Cdb() {}

    public static int opcode(byte[] cdb) {
        return cdb[0] & 0xff;
    }

    /** The service action of a variable-function CDB (byte 1, low five bits). */
    public static int serviceAction(byte[] cdb) {
        return cdb[1] & 0x1f;
    }

    public static int u8(byte[] cdb, int i) {
        return cdb[i] & 0xff;
    }

    public static int u16(byte[] cdb, int i) {
        return (cdb[i] & 0xff) << 8 | (cdb[i + 1] & 0xff);
    }

    public static int u24(byte[] cdb, int i) {
        return (cdb[i] & 0xff) << 16 | u16(cdb, i + 1);
    }

    public static long u32(byte[] cdb, int i) {
        return ((long) (cdb[i] & 0xff) << 24) | u24(cdb, i + 1);
    }

    public static long u64(byte[] cdb, int i) {
        return u32(cdb, i) << 32 | u32(cdb, i + 4);
    }

    /** SBC-3 §5.12: FUA, bit 3 of byte 1 in READ/WRITE(10/12/16). */
    public static boolean fua(byte[] cdb) {
        return (cdb[1] & 0x08) != 0;
    }

    /** SBC-3 §5.22: BYTCHK of VERIFY / WRITE AND VERIFY (bits 1-2 of byte 1). */
    public static int bytchk(byte[] cdb) {
        return (cdb[1] >> 1) & 0x03;
    }

    /** The RDPROTECT/WRPROTECT/VRPROTECT field (bits 5-7 of byte 1). */
    public static int protect(byte[] cdb) {
        return (cdb[1] >> 5) & 0x07;
    }

    /** SPC-4 §4.3.4.6: the CONTROL byte is the last byte of the CDB; NACA is bit 2. */
    public static boolean naca(byte[] cdb, int length) {
        return (cdb[length - 1] & 0x04) != 0;
    }

    /** CDB length from the group code (SPC-4 §4.3.2). */
    public static int length(byte[] cdb) {
        return switch ((cdb[0] >> 5) & 0x07) {
            case 0 -> 6;
            case 1, 2 -> 10;
            case 4 -> 16;
            case 5 -> 12;
            default -> cdb.length;
        };
    }

    public static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >>> 8);
        b[i + 1] = (byte) v;
    }

    public static void put32(byte[] b, int i, long v) {
        b[i] = (byte) (v >>> 24);
        b[i + 1] = (byte) (v >>> 16);
        b[i + 2] = (byte) (v >>> 8);
        b[i + 3] = (byte) v;
    }

    public static void put64(byte[] b, int i, long v) {
        put32(b, i, v >>> 32);
        put32(b, i + 4, v);
    }
}
