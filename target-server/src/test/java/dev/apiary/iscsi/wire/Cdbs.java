package dev.apiary.iscsi.wire;

/** CDBs the tests send (SPC-4, SBC-3), built by hand so the bytes on the wire are plain to see. */
public final class Cdbs {
    private Cdbs() {}

    public static byte[] testUnitReady() {
        return new byte[6];
    }

    public static byte[] inquiry(int allocation) {
        return new byte[] {0x12, 0, 0, (byte) (allocation >>> 8), (byte) allocation, 0};
    }

    public static byte[] read10(long lba, int blocks) {
        return rw10(0x28, lba, blocks);
    }

    public static byte[] write10(long lba, int blocks) {
        return rw10(0x2a, lba, blocks);
    }

    private static byte[] rw10(int op, long lba, int blocks) {
        byte[] c = new byte[10];
        c[0] = (byte) op;
        put32(c, 2, (int) lba);
        c[7] = (byte) (blocks >>> 8);
        c[8] = (byte) blocks;
        return c;
    }

    /** SYNCHRONIZE CACHE (10) of the whole unit (LBA 0, 0 blocks: to the end, SBC-3 §5.22). */
    public static byte[] synchronizeCache10() {
        return rw10(0x35, 0, 0);
    }

    /** READ CAPACITY (16): SERVICE ACTION IN (16), service action 0x10. */
    public static byte[] readCapacity16(int allocation) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x9e;
        c[1] = 0x10;
        put32(c, 10, allocation);
        return c;
    }

    public static byte[] reportLuns(int allocation) {
        byte[] c = new byte[12];
        c[0] = (byte) 0xa0;
        put32(c, 6, allocation);
        return c;
    }

    /** COMPARE AND WRITE (SBC-3 §5.3): the data-out is the compare half, then the write half. */
    public static byte[] compareAndWrite(long lba, int blocks) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x89;
        put32(c, 2, (int) (lba >>> 32));
        put32(c, 6, (int) lba);
        c[13] = (byte) blocks;
        return c;
    }

    /** The LUN field for a single-level LUN below 256 (SAM-5 peripheral device addressing). */
    public static long lun(int n) {
        return (long) n << 48;
    }

    static void put32(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    public static long u64(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[off + i] & 0xff);
        }
        return v;
    }

    public static int u32(byte[] b, int off) {
        return (int) (u64(new byte[] {0, 0, 0, 0, b[off], b[off + 1], b[off + 2], b[off + 3]}, 0));
    }
}
