package dev.apiary.iscsi.wire;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One iSCSI PDU as raw bytes (RFC 7143 §11.2): a 48-byte basic header segment and a data segment.
 * Digests are never used by the test initiator. Field access is by byte offset, so a test can build
 * any header it likes, malformed ones included.
 */
public final class Pdu {
    public static final int BHS = 48;
    public static final int RESERVED = 0xffffffff;

    // Initiator opcodes.
    public static final int NOP_OUT = 0x00;
    public static final int SCSI_COMMAND = 0x01;
    public static final int TASK_MGMT = 0x02;
    public static final int LOGIN_REQUEST = 0x03;
    public static final int TEXT_REQUEST = 0x04;
    public static final int DATA_OUT = 0x05;
    public static final int LOGOUT_REQUEST = 0x06;
    public static final int SNACK = 0x10;
    // Target opcodes.
    public static final int NOP_IN = 0x20;
    public static final int SCSI_RESPONSE = 0x21;
    public static final int TASK_MGMT_RESPONSE = 0x22;
    public static final int LOGIN_RESPONSE = 0x23;
    public static final int TEXT_RESPONSE = 0x24;
    public static final int DATA_IN = 0x25;
    public static final int LOGOUT_RESPONSE = 0x26;
    public static final int R2T = 0x31;
    public static final int ASYNC = 0x32;
    public static final int REJECT = 0x3f;

    private final byte[] bhs;
    private final byte[] data;

    public Pdu(byte[] bhs, byte[] data) {
        if (bhs.length != BHS) {
            throw new IllegalArgumentException("a BHS has 48 bytes, not " + bhs.length);
        }
        this.bhs = bhs;
        this.data = data == null ? new byte[0] : data;
    }

    /** A fresh PDU of {@code opcode} (with the immediate bit if asked) and no data. */
    public static Pdu of(int opcode, boolean immediate) {
        byte[] b = new byte[BHS];
        b[0] = (byte) ((opcode & 0x3f) | (immediate ? 0x40 : 0));
        return new Pdu(b, null);
    }

    public Pdu withData(byte[] d) {
        return new Pdu(bhs, d);
    }

    public int opcode() {
        return bhs[0] & 0x3f;
    }

    public boolean immediate() {
        return (bhs[0] & 0x40) != 0;
    }

    public int flags() {
        return bhs[1] & 0xff;
    }

    public boolean fin() {
        return (bhs[1] & 0x80) != 0;
    }

    public int u8(int off) {
        return bhs[off] & 0xff;
    }

    public int u16(int off) {
        return (u8(off) << 8) | u8(off + 1);
    }

    public int u24(int off) {
        return (u8(off) << 16) | u16(off + 1);
    }

    public int i32(int off) {
        return (u8(off) << 24) | (u8(off + 1) << 16) | (u8(off + 2) << 8) | u8(off + 3);
    }

    public long i64(int off) {
        return ((long) i32(off) << 32) | (i32(off + 4) & 0xffffffffL);
    }

    public Pdu set8(int off, int v) {
        bhs[off] = (byte) v;
        return this;
    }

    public Pdu set16(int off, int v) {
        bhs[off] = (byte) (v >>> 8);
        bhs[off + 1] = (byte) v;
        return this;
    }

    public Pdu set32(int off, int v) {
        for (int i = 0; i < 4; i++) {
            bhs[off + i] = (byte) (v >>> (24 - 8 * i));
        }
        return this;
    }

    public Pdu set64(int off, long v) {
        set32(off, (int) (v >>> 32));
        return set32(off + 4, (int) v);
    }

    public Pdu setBytes(int off, byte[] src) {
        System.arraycopy(src, 0, bhs, off, src.length);
        return this;
    }

    public int itt() {
        return i32(16);
    }

    public int ttt() {
        return i32(20);
    }

    /** StatSN (offset 24) in target PDUs. */
    public int statSn() {
        return i32(24);
    }

    public int expCmdSn() {
        return i32(28);
    }

    public int maxCmdSn() {
        return i32(32);
    }

    /** The DataSegmentLength field (bytes 5-7), which need not match {@link #data()} for hostile PDUs. */
    public int declaredDataLength() {
        return u24(5);
    }

    public byte[] header() {
        return bhs.clone();
    }

    public byte[] data() {
        return data;
    }

    /** The wire form: BHS with DataSegmentLength set to the data's length, data, padding to 4. */
    public byte[] encode() {
        byte[] h = bhs.clone();
        h[4] = 0; // no AHS
        h[5] = (byte) (data.length >>> 16);
        h[6] = (byte) (data.length >>> 8);
        h[7] = (byte) data.length;
        int padded = (data.length + 3) & ~3;
        byte[] out = Arrays.copyOf(h, BHS + padded);
        System.arraycopy(data, 0, out, BHS, data.length);
        return out;
    }

    /**
     * Reads one PDU (no AHS is expected from a target; if present it is skipped). Throws
     * {@link EOFException} if the stream ends, before or inside a PDU.
     */
    public static Pdu read(InputStream in) throws IOException {
        byte[] h = in.readNBytes(BHS);
        if (h.length < BHS) {
            throw new EOFException("stream ended after " + h.length + " header bytes");
        }
        int ahs = (h[4] & 0xff) * 4;
        int len = ((h[5] & 0xff) << 16) | ((h[6] & 0xff) << 8) | (h[7] & 0xff);
        if (ahs > 0 && in.readNBytes(ahs).length < ahs) {
            throw new EOFException("stream ended inside an AHS");
        }
        int padded = (len + 3) & ~3;
        byte[] d = in.readNBytes(padded);
        if (d.length < padded) {
            throw new EOFException("stream ended after " + d.length + " of " + padded + " data bytes");
        }
        return new Pdu(h, Arrays.copyOf(d, len));
    }

    /** RFC 7143 §6.1 text: key=value pairs each ended by NUL. */
    public static byte[] text(Map<String, String> keys) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        keys.forEach((k, v) -> {
            out.writeBytes((k + "=" + v).getBytes(StandardCharsets.UTF_8));
            out.write(0);
        });
        return out.toByteArray();
    }

    /** Parses text data into pairs, keeping repeats (SendTargets lists TargetName/TargetAddress per target). */
    public static List<Map.Entry<String, String>> pairs(byte[] text) {
        List<Map.Entry<String, String>> l = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= text.length; i++) {
            if (i == text.length || text[i] == 0) {
                if (i > start) {
                    String s = new String(text, start, i - start, StandardCharsets.UTF_8);
                    int eq = s.indexOf('=');
                    l.add(eq < 0 ? Map.entry(s, "") : Map.entry(s.substring(0, eq), s.substring(eq + 1)));
                }
                start = i + 1;
            }
        }
        return l;
    }

    public static Map<String, String> keys(byte[] text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : pairs(text)) {
            m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    @Override
    public String toString() {
        return String.format("Pdu[op=0x%02x flags=0x%02x itt=0x%08x ttt=0x%08x data=%d]", opcode(), flags(), itt(),
                ttt(), data.length);
    }
}
