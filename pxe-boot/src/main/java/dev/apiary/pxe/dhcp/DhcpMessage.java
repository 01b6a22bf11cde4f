package dev.apiary.pxe.dhcp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * One BOOTP/DHCP message (RFC 2131 §2, figure 1): the 236-byte fixed header and the options.
 * {@code chaddr} is the whole 16-byte field; {@code sname} and {@code file} are the NUL-terminated
 * strings of their fields (empty when the fields carried options, RFC 2132 §9.3).
 */
public record DhcpMessage(
        int op, int htype, int hlen, int hops, int xid, int secs, int flags,
        Inet4Address ciaddr, Inet4Address yiaddr, Inet4Address siaddr, Inet4Address giaddr,
        byte[] chaddr, String sname, String file, DhcpOptions options) {

    public static final int BOOTREQUEST = 1, BOOTREPLY = 2;
    /** Message types, option 53 (RFC 2132 §9.6). */
    public static final int DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6,
            RELEASE = 7, INFORM = 8;
    /** The BROADCAST bit of {@code flags} (RFC 2131 §2, figure 2). */
    public static final int FLAG_BROADCAST = 0x8000;
    public static final Inet4Address ZERO = ip(new byte[4]);

    public DhcpMessage {
        if (chaddr.length != 16) {
            throw new IllegalArgumentException("chaddr must be 16 bytes");
        }
        chaddr = chaddr.clone();
    }

    @Override
    public byte[] chaddr() {
        return chaddr.clone();
    }

    public int messageType() {
        return options.messageType();
    }

    public boolean broadcastFlag() {
        return (flags & FLAG_BROADCAST) != 0;
    }

    /** The client's MAC as "aa:bb:cc:dd:ee:ff", or null unless htype is Ethernet (1) with hlen 6. */
    public String mac() {
        if (htype != 1 || hlen != 6) {
            return null;
        }
        StringBuilder sb = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            sb.append(i == 0 ? "" : ":").append(HexFormat.of().toHexDigits(chaddr[i]));
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }

    /**
     * A reply to {@code request} (RFC 2131 §4.3.1 table 3): op BOOTREPLY, the client's xid, flags,
     * giaddr and chaddr; everything else zero and no options.
     */
    public static DhcpMessage replyTo(DhcpMessage request, Inet4Address yiaddr, Inet4Address siaddr,
            String file, DhcpOptions options) {
        return new DhcpMessage(BOOTREPLY, request.htype, request.hlen, 0, request.xid, 0, request.flags,
                ZERO, yiaddr, siaddr, request.giaddr, request.chaddr, "", file, options);
    }

    /** A client request with an Ethernet MAC, for tests and tools. */
    public static DhcpMessage request(int xid, String mac, DhcpOptions options) {
        byte[] ch = new byte[16];
        String[] parts = mac.split(":");
        for (int i = 0; i < 6; i++) {
            ch[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return new DhcpMessage(BOOTREQUEST, 1, 6, 0, xid, 0, FLAG_BROADCAST, ZERO, ZERO, ZERO, ZERO, ch, "", "",
                options);
    }

    public DhcpMessage withCiaddr(Inet4Address c) {
        return new DhcpMessage(op, htype, hlen, hops, xid, secs, flags, c, yiaddr, siaddr, giaddr, chaddr, sname,
                file, options);
    }

    static Inet4Address ip(byte[] four) {
        try {
            return (Inet4Address) InetAddress.getByAddress(four);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    public static Inet4Address ip(String dotted) {
        String[] p = dotted.split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + dotted);
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(p[i]);
        }
        return ip(b);
    }

    static int toInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    static Inet4Address fromInt(int v) {
        return ip(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    }

    @Override
    public String toString() {
        return "DhcpMessage[op=" + op + " type=" + messageType() + " xid=" + Integer.toHexString(xid) + " mac="
                + mac() + " ciaddr=" + ciaddr.getHostAddress() + " yiaddr=" + yiaddr.getHostAddress() + " siaddr="
                + siaddr.getHostAddress() + " file=" + file + " options=" + options + "]";
    }
}
