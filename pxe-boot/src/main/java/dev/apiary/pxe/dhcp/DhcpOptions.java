package dev.apiary.pxe.dhcp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * DHCP options (RFC 2132 §2 TLV format) in the order they were received or added: code to value.
 * Codes 0 (PAD) and 255 (END) are framing, never stored. The codec checks the fixed-length options
 * listed in {@link #check} when decoding, so the typed getters can trust what they read.
 */
public final class DhcpOptions {
    public static final int SUBNET_MASK = 1, ROUTER = 3, DNS = 6, HOSTNAME = 12, BROADCAST = 28;
    public static final int VENDOR_SPECIFIC = 43, REQUESTED_IP = 50, LEASE_TIME = 51, OVERLOAD = 52;
    public static final int MESSAGE_TYPE = 53, SERVER_ID = 54, PARAM_LIST = 55, MESSAGE = 56;
    public static final int MAX_SIZE = 57, RENEWAL_T1 = 58, REBINDING_T2 = 59, VENDOR_CLASS = 60;
    public static final int CLIENT_ID = 61, TFTP_SERVER = 66, BOOTFILE = 67, USER_CLASS = 77;
    public static final int CLIENT_ARCH = 93, CLIENT_NDI = 94, CLIENT_UUID = 97, IPXE_ENCAP = 175;

    private final LinkedHashMap<Integer, byte[]> values = new LinkedHashMap<>();

    public DhcpOptions() {}

    public DhcpOptions(Map<Integer, byte[]> from) {
        from.forEach(this::put);
    }

    /** Sets (or replaces, keeping its position) option {@code code}. */
    public DhcpOptions put(int code, byte[] value) {
        if (code <= 0 || code >= 255) {
            throw new IllegalArgumentException("option code " + code + " is framing, not an option");
        }
        values.put(code, value.clone());
        return this;
    }

    public DhcpOptions putByte(int code, int value) {
        return put(code, new byte[] {(byte) value});
    }

    public DhcpOptions putInt(int code, long value) {
        return put(code, new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
    }

    public DhcpOptions putAddress(int code, InetAddress... addresses) {
        byte[] v = new byte[4 * addresses.length];
        for (int i = 0; i < addresses.length; i++) {
            System.arraycopy(addresses[i].getAddress(), 0, v, 4 * i, 4);
        }
        return put(code, v);
    }

    public DhcpOptions putString(int code, String value) {
        return put(code, value.getBytes(StandardCharsets.US_ASCII));
    }

    public boolean has(int code) {
        return values.containsKey(code);
    }

    public Optional<byte[]> get(int code) {
        byte[] v = values.get(code);
        return v == null ? Optional.empty() : Optional.of(v.clone());
    }

    /** Codes in order. */
    public List<Integer> codes() {
        return List.copyOf(values.keySet());
    }

    Map<Integer, byte[]> raw() {
        return Collections.unmodifiableMap(values);
    }

    /** Option 53 (RFC 2132 §9.6), 1..8, or 0 when absent (a plain BOOTP message). */
    public int messageType() {
        byte[] v = values.get(MESSAGE_TYPE);
        return v == null ? 0 : v[0] & 0xff;
    }

    /** Option 60 (RFC 2132 §9.13), e.g. "PXEClient:Arch:00007:UNDI:003000". */
    public Optional<String> vendorClass() {
        return string(VENDOR_CLASS);
    }

    /**
     * Option 77 user classes. RFC 3004 §2 frames each class as length + data, but iPXE (and
     * several firmwares) send one bare string such as "iPXE"; like dnsmasq, a value that does
     * not parse as RFC 3004 frames is taken as one class.
     */
    public List<String> userClasses() {
        byte[] v = values.get(USER_CLASS);
        if (v == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < v.length) {
            int len = v[i] & 0xff;
            if (len == 0 || i + 1 + len > v.length) {
                return List.of(new String(v, StandardCharsets.US_ASCII));
            }
            out.add(new String(v, i + 1, len, StandardCharsets.US_ASCII));
            i += 1 + len;
        }
        return out;
    }

    /** Option 93 (RFC 4578 §2.1): the first architecture type listed, or -1 when absent. */
    public int clientArch() {
        byte[] v = values.get(CLIENT_ARCH);
        return v == null ? -1 : ((v[0] & 0xff) << 8) | (v[1] & 0xff);
    }

    /** Option 94 (RFC 4578 §2.2): type 1 (UNDI), major, minor. */
    public Optional<byte[]> clientNdi() {
        return get(CLIENT_NDI);
    }

    /** Option 97 (RFC 4578 §2.3): type 0 followed by a 16-byte GUID; the whole 17 bytes. */
    public Optional<byte[]> clientUuid() {
        return get(CLIENT_UUID);
    }

    /** Option 175: iPXE's encapsulated options; its presence alone says "this is iPXE". */
    public Optional<byte[]> ipxeEncap() {
        return get(IPXE_ENCAP);
    }

    /** Option 50 (RFC 2132 §9.1). */
    public Optional<Inet4Address> requestedIp() {
        return address(REQUESTED_IP);
    }

    /** Option 54 (RFC 2132 §9.7). */
    public Optional<Inet4Address> serverId() {
        return address(SERVER_ID);
    }

    /** Option 55 (RFC 2132 §9.8): requested option codes. */
    public List<Integer> paramList() {
        byte[] v = values.get(PARAM_LIST);
        List<Integer> out = new ArrayList<>();
        if (v != null) {
            for (byte b : v) {
                out.add(b & 0xff);
            }
        }
        return out;
    }

    private Optional<String> string(int code) {
        byte[] v = values.get(code);
        return v == null ? Optional.empty() : Optional.of(new String(v, StandardCharsets.US_ASCII));
    }

    private Optional<Inet4Address> address(int code) {
        byte[] v = values.get(code);
        return v == null ? Optional.empty() : Optional.of(DhcpMessage.ip(v));
    }

    /**
     * Checks the length (and, where it matters, the value) of options whose format is fixed;
     * returns an error naming the option, or null when the option is well formed.
     */
    static String check(int code, byte[] v) {
        boolean ok = switch (code) {
            case MESSAGE_TYPE -> v.length == 1 && v[0] >= 1 && v[0] <= 8; // RFC 2132 §9.6
            case OVERLOAD -> v.length == 1 && v[0] >= 1 && v[0] <= 3; // §9.3
            case REQUESTED_IP, SERVER_ID, SUBNET_MASK, LEASE_TIME, RENEWAL_T1, REBINDING_T2 -> v.length == 4;
            case MAX_SIZE -> v.length == 2 && (((v[0] & 0xff) << 8) | (v[1] & 0xff)) >= 576; // §9.10
            case CLIENT_ARCH -> v.length >= 2 && v.length % 2 == 0; // RFC 4578 §2.1
            case CLIENT_NDI -> v.length == 3 && v[0] == 1; // RFC 4578 §2.2
            case CLIENT_UUID -> v.length == 17 && v[0] == 0; // RFC 4578 §2.3
            case ROUTER, DNS -> v.length >= 4 && v.length % 4 == 0;
            case PARAM_LIST, VENDOR_CLASS, USER_CLASS, CLIENT_ID -> v.length >= 1;
            default -> true;
        };
        return ok ? null : "malformed DHCP option " + code + " (length " + v.length + ")";
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        values.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append('=')
                .append(java.util.HexFormat.of().formatHex(v)));
        return sb.append('}').toString();
    }
}
