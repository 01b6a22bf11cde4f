package dev.apiary.pxe.tftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TftpCodecTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Builds packet bytes: an opcode then strings, each NUL-terminated. */
    static byte[] req(int opcode, String... strings) {
        StringBuilder sb = new StringBuilder().append((char) 0).append((char) opcode);
        for (String s : strings) {
            sb.append(s).append('\0');
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static TftpPacket decode(byte[] bytes) throws Exception {
        ByteBuf b = ALLOC.directBuffer(Math.max(1, bytes.length)).writeBytes(bytes);
        try {
            return TftpCodec.decode(b);
        } finally {
            b.release();
            assertThat(b.refCnt()).isZero();
        }
    }

    private static String hex(TftpPacket p) {
        ByteBuf b = TftpCodec.encode(ALLOC, p);
        try {
            return ByteBufUtil.hexDump(b);
        } finally {
            assertThat(b.release()).isTrue();
        }
    }

    @Test
    void decodesAReadRequestWithOptionsCaseInsensitively() throws Exception {
        TftpPacket p = decode(req(1, "pxelinux.0", "OcTeT", "BLKSIZE", "1468", "tsize", "0", "blksize", "512"));
        assertThat(p).isEqualTo(new TftpPacket.ReadRequest("pxelinux.0", TftpPacket.Mode.OCTET,
                Map.of("blksize", "1468", "tsize", "0"))); // the repeated blksize is ignored
    }

    @Test
    void decodesGoldenBytes() throws Exception {
        byte[] golden = ByteBufUtil.decodeHexDump("0001612e62696e006e65746173636969007473697a65003000");
        assertThat(decode(golden)).isEqualTo(
                new TftpPacket.ReadRequest("a.bin", TftpPacket.Mode.NETASCII, Map.of("tsize", "0")));
        assertThat(decode(ByteBufUtil.decodeHexDump("00040102"))).isEqualTo(new TftpPacket.Ack(0x0102));
        assertThat(decode(ByteBufUtil.decodeHexDump("000500086e6f00"))).isEqualTo(new TftpPacket.Error(8, "no"));
        assertThat(decode(req(2, "up", "octet"))).isInstanceOf(TftpPacket.WriteRequest.class);
        TftpPacket.Data d = (TftpPacket.Data) decode(ByteBufUtil.decodeHexDump("0003ffff4142"));
        assertThat(d.block()).isEqualTo(65535);
        assertThat(d.bytes()).containsExactly(0x41, 0x42);
    }

    @Test
    void toleratesNulPaddingAfterARequest() throws Exception {
        byte[] r = req(1, "f", "octet");
        byte[] padded = java.util.Arrays.copyOf(r, r.length + 6);
        assertThat(decode(padded)).isEqualTo(new TftpPacket.ReadRequest("f", TftpPacket.Mode.OCTET, Map.of()));
    }

    @Test
    void encodesGoldenBytes() {
        assertThat(hex(new TftpPacket.Ack(65535))).isEqualTo("0004ffff");
        assertThat(hex(new TftpPacket.Data(1, new byte[] {1, 2}))).isEqualTo("000300010102");
        assertThat(hex(new TftpPacket.Error(1, "file not found")))
                .isEqualTo("00050001" + ByteBufUtil.hexDump("file not found".getBytes()) + "00");
        Map<String, String> o = new LinkedHashMap<>();
        o.put("blksize", "1468");
        o.put("tsize", "42");
        assertThat(hex(new TftpPacket.OAck(o))).isEqualTo("0006" + ByteBufUtil.hexDump(
                "blksize\u00001468\u0000tsize\u000042\u0000".getBytes()));
        assertThat(hex(new TftpPacket.ReadRequest("x", TftpPacket.Mode.OCTET, Map.of())))
                .isEqualTo("000178006f6374657400");
    }

    @Test
    void roundTripsEveryPacket() throws Exception {
        for (TftpPacket p : new TftpPacket[] {new TftpPacket.Ack(7), new TftpPacket.Error(2, "denied"),
                new TftpPacket.OAck(Map.of("windowsize", "8")),
                new TftpPacket.ReadRequest("d/f", TftpPacket.Mode.OCTET, Map.of("blksize", "1024")),
                new TftpPacket.WriteRequest("w", TftpPacket.Mode.NETASCII, Map.of())}) {
            ByteBuf b = TftpCodec.encode(ALLOC, p);
            try {
                assertThat(TftpCodec.decode(b)).isEqualTo(p);
            } finally {
                b.release();
            }
        }
    }

    @Test
    void refusesMalformedPackets() {
        byte[] big = new byte[600];
        big[1] = 1;
        java.util.Arrays.fill(big, 2, 599, (byte) 'a');
        byte[][] bad = {
            {}, {0}, {0, 9, 0}, {0, 1, 'a'}, // too short, unknown opcode, no NUL
            req(1, "", "octet"), req(1, "f", "mail"), req(1, "f", "octet", "blksize"),
            req(1, "f", "octet", "", "1"), req(1, "f\u0001", "octet"), big,
            ByteBufUtil.decodeHexDump("000400"), ByteBufUtil.decodeHexDump("0004000100"),
            ByteBufUtil.decodeHexDump("000500"), ByteBufUtil.decodeHexDump("0001ff00"),
        };
        for (byte[] b : bad) {
            assertThatThrownBy(() -> decode(b)).as(ByteBufUtil.hexDump(b))
                    .isInstanceOf(TftpCodec.MalformedPacketException.class);
        }
    }

    @Test
    void decodeLeavesTheBufferAlone() throws Exception {
        ByteBuf b = ALLOC.directBuffer().writeBytes(req(1, "f", "octet"));
        int r = b.readerIndex();
        TftpCodec.decode(b);
        assertThat(b.readerIndex()).isEqualTo(r);
        assertThat(b.refCnt()).isEqualTo(1);
        b.release();
    }

    @Test
    void negotiatesOptionsWithinTheirRanges() {
        TftpOptions o = TftpOptions.negotiate(Map.of("blksize", "1468", "tsize", "0", "timeout", "3",
                "windowsize", "200", "foo", "bar"), 1234, 65464, 64);
        assertThat(o.blockSize()).isEqualTo(1468);
        assertThat(o.windowSize()).isEqualTo(64);
        assertThat(o.oack()).containsEntry("tsize", "1234").containsEntry("timeout", "3")
                .containsEntry("windowsize", "64").doesNotContainKey("foo");
        TftpOptions refused = TftpOptions.negotiate(Map.of("blksize", "7", "timeout", "0", "windowsize", "x",
                "tsize", "0"), -1, 65464, 64);
        assertThat(refused.oack()).isEmpty(); // nothing accepted: no OACK, plain RFC 1350
        assertThat(refused.blockSize()).isEqualTo(512);
        assertThat(TftpOptions.negotiate(Map.of("blksize", "65464"), 1, 1468, 8).oack())
                .containsEntry("blksize", "1468");
    }
}
