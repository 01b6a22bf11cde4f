package dev.apiary.iscsi.scsi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * INQUIRY data (SPC-4 §6.4): the standard page and the vital product data pages 0x00, 0x80,
 * 0x83, 0xB0, 0xB1 and 0xB2 (SBC-3 §6.5).
 */
final class InquiryPages {
    static final int[] SUPPORTED_VPD = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};
    /** SPC-4 §7.5.1: peripheral qualifier 011b + device type 1Fh: no logical unit at this LUN. */
    static final int NO_LUN = 0x7f;
    private static final int PROTOCOL_ISCSI = 0x5;

    private InquiryPages() {}

    static byte[] standard(int peripheral) {
        byte[] d = new byte[96];
        d[0] = (byte) peripheral; // 0: connected direct-access block device
        d[2] = 0x06; // VERSION: SPC-4
        d[3] = 0x12; // HISUP = 1, RESPONSE DATA FORMAT = 2
        d[4] = (byte) (d.length - 5);
        d[5] = 0x10; // TPGS = 01b: implicit ALUA (REPORT TARGET PORT GROUPS)
        d[6] = 0x10; // MULTIP: more than one port may reach the unit
        d[7] = 0x02; // CMDQUE: full task management model
        ascii(d, 8, 8, LunIdentity.VENDOR);
        ascii(d, 16, 16, LunIdentity.PRODUCT);
        ascii(d, 32, 4, LunIdentity.REVISION);
        int[] versions = {0x00a0 /* SAM-5 */, 0x0960 /* iSCSI */, 0x0460 /* SPC-4 */, 0x04c0 /* SBC-3 */};
        for (int i = 0; i < versions.length; i++) {
            Cdb.put16(d, 58 + 2 * i, versions[i]);
        }
        return d;
    }

    /** The VPD page {@code code}, or null if this unit does not have it. */
    static byte[] vpd(int code, LogicalUnit lu, Nexus nexus, String targetName) {
        return switch (code) {
            case 0x00 -> supportedPages();
            case 0x80 -> unitSerial(lu);
            case 0x83 -> deviceIdentification(lu, nexus, targetName);
            case 0xb0 -> blockLimits(lu);
            case 0xb1 -> blockDeviceCharacteristics();
            case 0xb2 -> logicalBlockProvisioning();
            default -> null;
        };
    }

    private static byte[] page(int code, byte[] body) {
        byte[] d = new byte[4 + body.length];
        d[1] = (byte) code;
        Cdb.put16(d, 2, body.length);
        System.arraycopy(body, 0, d, 4, body.length);
        return d;
    }

    private static byte[] supportedPages() {
        byte[] body = new byte[SUPPORTED_VPD.length];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) SUPPORTED_VPD[i];
        }
        return page(0x00, body);
    }

    private static byte[] unitSerial(LogicalUnit lu) {
        return page(0x80, lu.identity.serial().getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * SPC-4 §7.8.6: the unit's NAA and T10 vendor designators, and for the port it was reached
     * through, the relative target port, the target port group and the port's SCSI name, which
     * is what multipath uses to tell the paths of one unit apart (ALUA, SPC-4 §5.15).
     */
    private static byte[] deviceIdentification(LogicalUnit lu, Nexus nexus, String targetName) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] naa = new byte[8];
        Cdb.put64(naa, 0, lu.identity.naa());
        designator(b, 0x01, 0x00, 0x3, naa); // binary, logical unit, NAA
        byte[] t10 = new byte[8 + lu.identity.serial().length()];
        ascii(t10, 0, 8, LunIdentity.VENDOR);
        ascii(t10, 8, lu.identity.serial().length(), lu.identity.serial());
        designator(b, 0x02, 0x00, 0x1, t10); // ASCII, logical unit, T10 vendor ID
        byte[] port = new byte[4];
        Cdb.put16(port, 2, nexus.relativePort());
        designator(b, PROTOCOL_ISCSI << 4 | 0x01, 0x80 | 0x10, 0x4, port); // PIV, target port, relative port
        byte[] group = new byte[4];
        Cdb.put16(group, 2, nexus.portGroup());
        designator(b, PROTOCOL_ISCSI << 4 | 0x01, 0x80 | 0x10, 0x5, group); // target port group
        byte[] name = scsiName(nexus.targetPort());
        designator(b, PROTOCOL_ISCSI << 4 | 0x03, 0x80 | 0x10, 0x8, name); // UTF-8 SCSI name, target port
        byte[] device = scsiName(targetName);
        designator(b, PROTOCOL_ISCSI << 4 | 0x03, 0x80 | 0x20, 0x8, device); // SCSI name, target device
        return page(0x83, b.toByteArray());
    }

    private static void designator(ByteArrayOutputStream b, int protoCodeSet, int pivAssoc, int type, byte[] value) {
        b.write(protoCodeSet);
        b.write(pivAssoc | type);
        b.write(0);
        b.write(value.length);
        b.writeBytes(value);
    }

    /** SPC-4 §7.8.6.11: a NUL-terminated UTF-8 name padded to a multiple of four bytes. */
    private static byte[] scsiName(String name) {
        byte[] s = name.getBytes(StandardCharsets.UTF_8);
        byte[] d = new byte[(s.length + 4) & ~3];
        System.arraycopy(s, 0, d, 0, s.length);
        return d;
    }

    /** SBC-3 §6.5.3 Block Limits. */
    private static byte[] blockLimits(LogicalUnit lu) {
        byte[] b = new byte[0x3c];
        b[0] = 0x01; // WSNZ: a WRITE SAME of zero blocks is refused
        b[1] = (byte) BlockCommands.MAX_COMPARE_AND_WRITE_BLOCKS;
        Cdb.put16(b, 2, 4096 / lu.blockSize); // OPTIMAL TRANSFER LENGTH GRANULARITY: one 4 KiB block
        Cdb.put32(b, 4, CommandParser.MAX_TRANSFER_BYTES / lu.blockSize);
        // OPTIMAL TRANSFER LENGTH stays 0 (not reported), as tgt does. Linux sets a disk's
        // read-ahead to twice this value; at 1 MiB, page faults of a booting root became 850 KiB
        // reads and slirp/TCG guests stalled 5-21 s on them in 14 of 21 boots (docs/worker-image.md).
        Cdb.put32(b, 16, BlockCommands.MAX_UNMAP_LBA_COUNT);
        Cdb.put32(b, 20, BlockCommands.MAX_UNMAP_DESCRIPTORS);
        Cdb.put32(b, 24, 4096 / lu.blockSize); // OPTIMAL UNMAP GRANULARITY
        Cdb.put64(b, 32, BlockCommands.MAX_WRITE_SAME_BLOCKS);
        return page(0xb0, b);
    }

    /** SBC-3 §6.5.2 Block Device Characteristics: not rotating media. */
    private static byte[] blockDeviceCharacteristics() {
        byte[] b = new byte[0x3c];
        Cdb.put16(b, 0, 0x0001); // MEDIUM ROTATION RATE: non-rotating
        return page(0xb1, b);
    }

    /** SBC-3 §6.5.4 Logical Block Provisioning: thin, with UNMAP and WRITE SAME(10/16) unmap. */
    private static byte[] logicalBlockProvisioning() {
        byte[] b = new byte[4];
        b[1] = (byte) (0x80 | 0x40 | 0x20 | 0x04); // LBPU, LBPWS, LBPWS10, LBPRZ
        b[2] = 0x02; // PROVISIONING TYPE: thin
        return page(0xb2, b);
    }

    private static void ascii(byte[] d, int at, int width, String s) {
        byte[] v = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < width; i++) {
            d[at + i] = i < v.length ? v[i] : (byte) ' ';
        }
    }
}
