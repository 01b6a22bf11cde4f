package dev.apiary.pxe.dhcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Pure BOOTP/DHCP encoding and decoding (RFC 2131 §2 and §3, RFC 2132 §2). Decoding never throws
 * and never moves the buffer's indices or releases it: bad input comes back as an {@link Error}
 * whose text names the problem, e.g. "malformed DHCP option 93 (length 3)".
 */
public final class DhcpCodec {
    /** Fixed header length: op .. file (RFC 2131 §2, figure 1). */
    public static final int HEADER = 236;
    /** 99.130.83.99 (RFC 2131 §3, RFC 2132 §2). */
    public static final int MAGIC_COOKIE = 0x63825363;
    /** Largest message accepted or sent: an Ethernet MTU's worth (RFC 2131 §2 only requires 576). */
    public static final int MAX_MESSAGE = 1500;
    /** Replies are padded to the 300-byte BOOTP minimum that old PXE ROMs expect (RFC 1542 §2.1). */
    public static final int MIN_REPLY = 300;

    private static final int SNAME_AT = 44, FILE_AT = 108, OPTIONS_AT = 240;

    public sealed interface Result permits Ok, Error {}

    public record Ok(DhcpMessage message) implements Result {}

    public record Error(String reason) implements Result {}

    private DhcpCodec() {}

    public static Result decode(ByteBuf buf) {
        try {
            return decodeChecked(buf);
        } catch (RuntimeException e) { // belt and braces: bad input must never escape as an exception
            return new Error("undecodable DHCP message: " + e);
        }
    }

    private static Result decodeChecked(ByteBuf buf) {
        int base = buf.readerIndex();
        int len = buf.readableBytes();
        if (len < OPTIONS_AT) {
            return new Error("truncated DHCP packet: " + len + " bytes, need at least " + OPTIONS_AT);
        }
        if (len > MAX_MESSAGE) {
            return new Error("oversized DHCP packet: " + len + " bytes, limit " + MAX_MESSAGE);
        }
        byte[] b = new byte[len];
        buf.getBytes(base, b);
        int op = b[0] & 0xff, htype = b[1] & 0xff, hlen = b[2] & 0xff;
        if (op != DhcpMessage.BOOTREQUEST && op != DhcpMessage.BOOTREPLY) {
            return new Error("bad DHCP op " + op);
        }
        if (hlen > 16) {
            return new Error("bad DHCP hlen " + hlen + " (chaddr holds 16)");
        }
        if (int32(b, HEADER) != MAGIC_COOKIE) {
            return new Error("missing DHCP magic cookie 99.130.83.99");
        }
        Map<Integer, byte[]> opts = new LinkedHashMap<>();
        String err = parseOptions(b, OPTIONS_AT, len, opts, true);
        if (err != null) {
            return new Error(err);
        }
        // Option overload (RFC 2132 §9.3): file, then sname, carry more options (RFC 2131 §4.1).
        byte[] ov = opts.get(DhcpOptions.OVERLOAD);
        if (ov != null && (err = DhcpOptions.check(DhcpOptions.OVERLOAD, ov)) != null) {
            return new Error(err);
        }
        int overload = opts.containsKey(DhcpOptions.OVERLOAD) ? opts.get(DhcpOptions.OVERLOAD)[0] : 0;
        if ((overload & 1) != 0 && (err = parseOptions(b, FILE_AT, FILE_AT + 128, opts, false)) != null) {
            return new Error(err + " in file field");
        }
        if ((overload & 2) != 0 && (err = parseOptions(b, SNAME_AT, SNAME_AT + 64, opts, false)) != null) {
            return new Error(err + " in sname field");
        }
        for (Map.Entry<Integer, byte[]> e : opts.entrySet()) {
            if ((err = DhcpOptions.check(e.getKey(), e.getValue())) != null) {
                return new Error(err);
            }
        }
        byte[] chaddr = new byte[16];
        System.arraycopy(b, 28, chaddr, 0, 16);
        return new Ok(new DhcpMessage(op, htype, hlen, b[3] & 0xff, int32(b, 4), int16(b, 8), int16(b, 10),
                ip(b, 12), ip(b, 16), ip(b, 20), ip(b, 24), chaddr,
                (overload & 2) != 0 ? "" : cString(b, SNAME_AT, 64),
                (overload & 1) != 0 ? "" : cString(b, FILE_AT, 128),
                new DhcpOptions(opts)));
    }

    /**
     * Parses TLV options in b[from, to). The main area must end with END (255); an overloaded
     * field may instead run to its end with padding. Repeated codes are concatenated (RFC 3396).
     */
    private static String parseOptions(byte[] b, int from, int to, Map<Integer, byte[]> into, boolean needEnd) {
        int i = from;
        while (i < to) {
            int code = b[i] & 0xff;
            if (code == 0) {
                i++;
                continue;
            }
            if (code == 255) {
                return null;
            }
            if (i + 1 >= to) {
                return "malformed DHCP option " + code + ": no length byte";
            }
            int olen = b[i + 1] & 0xff;
            if (i + 2 + olen > to) {
                return "malformed DHCP option " + code + ": length " + olen + " past the end";
            }
            byte[] v = new byte[olen];
            System.arraycopy(b, i + 2, v, 0, olen);
            into.merge(code, v, DhcpCodec::concat);
            i += 2 + olen;
        }
        return needEnd ? "DHCP options not terminated by END (255)" : null;
    }

    /** Encodes {@code m}; options longer than 255 bytes are split (RFC 3396). */
    public static ByteBuf encode(DhcpMessage m, ByteBufAllocator alloc) {
        byte[] b = encodeBytes(m);
        return alloc.buffer(b.length).writeBytes(b);
    }

    public static byte[] encodeBytes(DhcpMessage m) {
        byte[] b = new byte[MAX_MESSAGE];
        b[0] = (byte) m.op();
        b[1] = (byte) m.htype();
        b[2] = (byte) m.hlen();
        b[3] = (byte) m.hops();
        put32(b, 4, m.xid());
        put16(b, 8, m.secs());
        put16(b, 10, m.flags());
        System.arraycopy(m.ciaddr().getAddress(), 0, b, 12, 4);
        System.arraycopy(m.yiaddr().getAddress(), 0, b, 16, 4);
        System.arraycopy(m.siaddr().getAddress(), 0, b, 20, 4);
        System.arraycopy(m.giaddr().getAddress(), 0, b, 24, 4);
        System.arraycopy(m.chaddr(), 0, b, 28, 16);
        putString(b, SNAME_AT, 64, m.sname(), "sname");
        putString(b, FILE_AT, 128, m.file(), "file");
        put32(b, HEADER, MAGIC_COOKIE);
        int i = OPTIONS_AT;
        for (Map.Entry<Integer, byte[]> e : m.options().raw().entrySet()) {
            byte[] v = e.getValue();
            int off = 0;
            do {
                int n = Math.min(255, v.length - off);
                if (i + 2 + n >= MAX_MESSAGE) {
                    throw new IllegalArgumentException("DHCP message over " + MAX_MESSAGE + " bytes");
                }
                b[i++] = (byte) (int) e.getKey();
                b[i++] = (byte) n;
                System.arraycopy(v, off, b, i, n);
                i += n;
                off += n;
            } while (off < v.length);
        }
        b[i++] = (byte) 255;
        return java.util.Arrays.copyOf(b, Math.max(i, MIN_REPLY));
    }

    private static byte[] concat(byte[] a, byte[] c) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + c.length);
        System.arraycopy(c, 0, r, a.length, c.length);
        return r;
    }

    private static int int32(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static int int16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    private static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static java.net.Inet4Address ip(byte[] b, int at) {
        return DhcpMessage.ip(java.util.Arrays.copyOfRange(b, at, at + 4));
    }

    private static String cString(byte[] b, int at, int max) {
        int n = 0;
        while (n < max && b[at + n] != 0) {
            n++;
        }
        return new String(b, at, n, StandardCharsets.ISO_8859_1);
    }

    private static void putString(byte[] b, int at, int max, String s, String field) {
        byte[] v = s.getBytes(StandardCharsets.ISO_8859_1);
        if (v.length >= max) { // keep a terminating NUL
            throw new IllegalArgumentException(field + " longer than " + (max - 1) + " bytes");
        }
        System.arraycopy(v, 0, b, at, v.length);
    }
}
