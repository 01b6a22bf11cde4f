package dev.apiary.pxe.dhcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DhcpCodecTest {
    static final byte[] DISCOVER = DhcpTestClient.resource("ovmf-discover.hex");
    static final byte[] OFFER = DhcpTestClient.resource("proxy-offer-uefi.hex");

    /** Decodes in a pooled direct buffer and checks the codec neither moved nor released it. */
    static DhcpCodec.Result decode(byte[] bytes) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        try {
            DhcpCodec.Result r = DhcpCodec.decode(buf);
            assertThat(buf.refCnt()).isEqualTo(1);
            assertThat(buf.readerIndex()).isZero();
            return r;
        } finally {
            assertThat(buf.release()).isTrue();
        }
    }

    static DhcpMessage ok(byte[] bytes) {
        DhcpCodec.Result r = decode(bytes);
        assertThat(r).isInstanceOf(DhcpCodec.Ok.class);
        return ((DhcpCodec.Ok) r).message();
    }

    static String error(byte[] bytes) {
        DhcpCodec.Result r = decode(bytes);
        assertThat(r).isInstanceOf(DhcpCodec.Error.class);
        return ((DhcpCodec.Error) r).reason();
    }

    @Test
    void decodesAnOvmfPxeDiscover() {
        DhcpMessage m = ok(DISCOVER);
        assertThat(m.op()).isEqualTo(DhcpMessage.BOOTREQUEST);
        assertThat(m.xid()).isEqualTo((int) 2294173776L);
        assertThat(m.secs()).isEqualTo(4);
        assertThat(m.broadcastFlag()).isTrue();
        assertThat(m.mac()).isEqualTo("52:54:00:12:34:56");
        assertThat(m.messageType()).isEqualTo(DhcpMessage.DISCOVER);
        DhcpOptions o = m.options();
        assertThat(o.vendorClass()).contains("PXEClient:Arch:00007:UNDI:003000");
        assertThat(o.clientArch()).isEqualTo(7);
        assertThat(o.clientNdi().orElseThrow()).containsExactly(1, 3, 0);
        assertThat(o.clientUuid().orElseThrow()).hasSize(17).startsWith(0, 0x10, 0x11);
        assertThat(o.paramList()).contains(43, 60, 66, 67, 97);
        assertThat(o.codes()).containsExactly(53, 57, 55, 97, 94, 93, 60);
        assertThat(o.userClasses()).isEmpty();
        assertThat(o.ipxeEncap()).isEmpty();
    }

    @Test
    void encodesAProxyOfferByteForByte() {
        DhcpMessage discover = ok(DISCOVER);
        DhcpOptions o = new DhcpOptions().putByte(53, DhcpMessage.OFFER)
                .putAddress(54, DhcpMessage.ip("10.77.0.1")).putString(60, "PXEClient")
                .put(43, new byte[] {6, 1, 8, (byte) 255}).put(97, discover.options().clientUuid().orElseThrow());
        DhcpMessage offer = DhcpMessage.replyTo(discover, DhcpMessage.ZERO, DhcpMessage.ip("10.77.0.1"),
                "snponly.efi", o);
        assertThat(DhcpCodec.encodeBytes(offer)).isEqualTo(OFFER);
        ByteBuf buf = DhcpCodec.encode(offer, PooledByteBufAllocator.DEFAULT);
        try {
            assertThat(buf.readableBytes()).isEqualTo(300);
        } finally {
            buf.release();
        }
        DhcpMessage back = ok(OFFER);
        assertThat(back.file()).isEqualTo("snponly.efi");
        assertThat(back.siaddr()).isEqualTo(DhcpMessage.ip("10.77.0.1"));
        assertThat(back.options().serverId()).contains(DhcpMessage.ip("10.77.0.1"));
    }

    @Test
    void roundTripsAndSplitsLongOptions() {
        byte[] big = new byte[600];
        Arrays.fill(big, (byte) 'x');
        DhcpMessage m = DhcpMessage.request(42, "aa:bb:cc:dd:ee:ff",
                new DhcpOptions().putByte(53, 1).put(224, big).putString(12, "host"));
        DhcpMessage back = ok(DhcpCodec.encodeBytes(m));
        assertThat(back.options().get(224).orElseThrow()).isEqualTo(big); // RFC 3396 concatenation
        assertThat(back.options().get(12).orElseThrow()).isEqualTo("host".getBytes(StandardCharsets.US_ASCII));
        assertThat(back.mac()).isEqualTo("aa:bb:cc:dd:ee:ff");
    }

    @Test
    void readsOptionsFromOverloadedFileAndSnameFields() {
        byte[] b = Arrays.copyOf(DISCOVER, 350);
        int end = indexOfEnd(b);
        b[end] = 52; // option overload = 3 (file and sname)
        b[end + 1] = 1;
        b[end + 2] = 3;
        b[end + 3] = (byte) 255;
        byte[] fileOpts = {77, 4, 'i', 'P', 'X', 'E', (byte) 255};
        System.arraycopy(fileOpts, 0, b, 108, fileOpts.length);
        byte[] snameOpts = {(byte) 175, 3, 1, 2, 3}; // runs to padding: no END needed
        System.arraycopy(snameOpts, 0, b, 44, snameOpts.length);
        DhcpMessage m = ok(b);
        assertThat(m.options().userClasses()).containsExactly("iPXE");
        assertThat(m.options().ipxeEncap()).isPresent();
        assertThat(m.file()).isEmpty();
        assertThat(m.sname()).isEmpty();
    }

    @Test
    void userClassIsRfc3004OrOneBareString() {
        DhcpOptions rfc = new DhcpOptions().put(77, new byte[] {4, 'i', 'P', 'X', 'E', 2, 'a', 'b'});
        assertThat(rfc.userClasses()).containsExactly("iPXE", "ab");
        assertThat(new DhcpOptions().putString(77, "iPXE").userClasses()).containsExactly("iPXE");
    }

    @Test
    void rejectsTruncatedPackets() {
        assertThat(error(new byte[0])).contains("truncated");
        assertThat(error(Arrays.copyOf(DISCOVER, 100))).contains("truncated DHCP packet: 100 bytes");
        assertThat(error(Arrays.copyOf(DISCOVER, 239))).contains("truncated");
        // header and cookie, but the options stop before END
        assertThat(error(Arrays.copyOf(DISCOVER, 260))).contains("malformed DHCP option");
        assertThat(error(Arrays.copyOf(DISCOVER, DISCOVER.length - 1))).contains("not terminated by END");
    }

    @Test
    void rejectsOptionLengthsPastTheEnd() {
        byte[] b = DISCOVER.clone();
        int at = indexOfOption(b, 60);
        b[at + 1] = (byte) 200;
        assertThat(error(b)).isEqualTo("malformed DHCP option 60: length 200 past the end");
        byte[] c = Arrays.copyOf(DISCOVER, 241); // option 53's code is the last byte
        assertThat(error(c)).isEqualTo("malformed DHCP option 53: no length byte");
    }

    @Test
    void rejectsMalformedTypedOptions() {
        assertThat(error(single(93, 0, 7, 0))).isEqualTo("malformed DHCP option 93 (length 3)");
        assertThat(error(single(97, 0, 1, 2))).isEqualTo("malformed DHCP option 97 (length 3)");
        assertThat(error(single(94, 2, 3, 0))).isEqualTo("malformed DHCP option 94 (length 3)");
        assertThat(error(single(54, 10, 0, 0))).isEqualTo("malformed DHCP option 54 (length 3)");
        assertThat(error(single(57, 1, 0))).isEqualTo("malformed DHCP option 57 (length 2)");
        // a repeated option is concatenated (RFC 3396), then checked: 93 twice in one message
        assertThat(error(withOption(93, 0, 7, 0))).isEqualTo("malformed DHCP option 93 (length 5)");
        assertThat(error(withOption(52, 7))).startsWith("malformed DHCP option 52");
        byte[] b = DISCOVER.clone();
        b[indexOfOption(b, 53) + 2] = 9;
        assertThat(error(b)).isEqualTo("malformed DHCP option 53 (length 1)");
    }

    @Test
    void rejectsOversizedBadCookieBadOpAndBadHlen() {
        assertThat(error(Arrays.copyOf(DISCOVER, 1501))).contains("oversized DHCP packet: 1501 bytes");
        assertThat(ok(padded(1500)).messageType()).isEqualTo(1);
        byte[] b = DISCOVER.clone();
        b[236] = 0;
        assertThat(error(b)).contains("magic cookie");
        b = DISCOVER.clone();
        b[0] = 3;
        assertThat(error(b)).contains("bad DHCP op 3");
        b = DISCOVER.clone();
        b[2] = 17;
        assertThat(error(b)).contains("bad DHCP hlen 17");
    }

    @Test
    void neverThrowsOnRandomBytes() {
        java.util.Random r = new java.util.Random(1234);
        for (int i = 0; i < 2000; i++) {
            byte[] b = Arrays.copyOf(DISCOVER, 241 + r.nextInt(400));
            for (int j = 0; j < 1 + r.nextInt(20); j++) {
                b[240 + r.nextInt(b.length - 240)] = (byte) r.nextInt(256);
            }
            decode(b); // Ok or Error, never an exception
        }
        ByteBuf empty = Unpooled.EMPTY_BUFFER;
        assertThat(DhcpCodec.decode(empty)).isInstanceOf(DhcpCodec.Error.class);
    }

    static byte[] padded(int size) {
        return Arrays.copyOf(DISCOVER, size); // after END, zero padding
    }

    /** A DISCOVER with just option 53 and {@code code}. */
    static byte[] single(int code, int... value) {
        byte[] v = new byte[value.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) value[i];
        }
        return DhcpCodec.encodeBytes(DhcpMessage.request(1, "52:54:00:12:34:56",
                new DhcpOptions().putByte(53, 1).put(code, v)));
    }

    /** DISCOVER with one more option before END. */
    static byte[] withOption(int code, int... value) {
        byte[] b = Arrays.copyOf(DISCOVER, DISCOVER.length + 2 + value.length);
        int at = indexOfEnd(b);
        b[at] = (byte) code;
        b[at + 1] = (byte) value.length;
        for (int i = 0; i < value.length; i++) {
            b[at + 2 + i] = (byte) value[i];
        }
        b[at + 2 + value.length] = (byte) 255;
        return b;
    }

    static int indexOfOption(byte[] b, int code) {
        int i = 240;
        while ((b[i] & 0xff) != code) {
            i += 2 + (b[i + 1] & 0xff);
        }
        return i;
    }

    static int indexOfEnd(byte[] b) {
        return indexOfOption(b, 255);
    }
}
