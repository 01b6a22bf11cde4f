package dev.apiary.iscsi.pdu;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The framing decoder and the encoder, through EmbeddedChannel; every test checks for leaked buffers. */
class FrameCodecTest {

    /** A NOP-Out with {@code data}, as an initiator would frame it (optionally with digests). */
    static ByteBuf nopOut(byte[] data, boolean headerDigest, boolean dataDigest) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0x40); // immediate NOP-Out
        b.writeByte(0x80);
        b.writeShort(0);
        b.writeByte(0);
        b.writeMedium(data.length);
        b.writeLong(0); // LUN
        b.writeInt(0x1234); // ITT
        b.writeInt(0xffffffff); // TTT
        b.writeInt(7); // CmdSN
        b.writeInt(3); // ExpStatSN
        b.writeZero(16);
        if (headerDigest) {
            b.writeIntLE(Crc32c.of(b, 0, 48));
        }
        int start = b.writerIndex();
        b.writeBytes(data);
        b.writeZero(-data.length & 3);
        if (dataDigest && data.length > 0) {
            b.writeIntLE(Crc32c.of(b, start, b.writerIndex() - start));
        }
        return b;
    }

    static EmbeddedChannel channel(boolean hd, boolean dd, int maxData) {
        EmbeddedChannel ch = new EmbeddedChannel(new IscsiFrameDecoder(), PduEncoder.INSTANCE);
        WireSettings.of(ch).enterFullFeature(hd, dd, maxData);
        return ch;
    }

    @Test
    void decodesAPduSplitAcrossReadsAndReleasesIt() {
        EmbeddedChannel ch = channel(false, false, 8192);
        ByteBuf wire = nopOut("ping!".getBytes(), false, false);
        assertThat(ch.writeInbound(wire.readRetainedSlice(30))).isFalse();
        assertThat(ch.writeInbound(wire.readRetainedSlice(wire.readableBytes()))).isTrue();
        wire.release();
        InitiatorPdu.NopOut nop = (InitiatorPdu.NopOut) ch.readInbound();
        assertThat(nop.itt()).isEqualTo(0x1234);
        assertThat(nop.cmdSn()).isEqualTo(7);
        assertThat(nop.immediate()).isTrue();
        assertThat(nop.data().toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ping!");
        ByteBuf frame = nop.frame().buf();
        nop.release();
        assertThat(frame.refCnt()).isZero();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void checksBothDigests() {
        EmbeddedChannel ch = channel(true, true, 8192);
        assertThat(ch.writeInbound(nopOut(new byte[] {1, 2, 3, 4, 5}, true, true))).isTrue();
        InitiatorPdu pdu = ch.readInbound();
        assertThat(pdu).isInstanceOf(InitiatorPdu.NopOut.class);
        assertThat(pdu.data().readableBytes()).isEqualTo(5);
        pdu.release();

        ByteBuf bad = nopOut(new byte[] {1, 2, 3, 4, 5}, true, true);
        bad.setByte(bad.writerIndex() - 1, bad.getByte(bad.writerIndex() - 1) ^ 0xff); // corrupt the data digest
        assertThat(ch.writeInbound(bad)).isTrue();
        InitiatorPdu.Invalid invalid = ch.readInbound();
        assertThat(invalid.rejectReason()).isEqualTo(RejectReason.DATA_DIGEST_ERROR.code);
        invalid.release();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aBadHeaderDigestBreaksTheStream() {
        EmbeddedChannel ch = channel(true, false, 8192);
        ByteBuf bad = nopOut(new byte[0], true, false);
        bad.setByte(20, 0x55);
        IscsiFrameDecoder decoder = ch.pipeline().get(IscsiFrameDecoder.class);
        assertThat(ch.writeInbound(bad)).isTrue();
        InitiatorPdu.Invalid invalid = ch.readInbound();
        assertThat(invalid.why()).contains("header digest");
        invalid.release();
        assertThat(decoder.broken()).isTrue();
        // Whatever follows is discarded: there is no trustworthy PDU boundary any more.
        assertThat(ch.writeInbound(nopOut(new byte[0], true, false))).isFalse();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aDataSegmentOverTheLimitIsRejectedBeforeItIsBuffered() {
        EmbeddedChannel ch = channel(false, false, 512);
        ByteBuf header = nopOut(new byte[0], false, false);
        header.setMedium(5, 100_000);
        assertThat(ch.writeInbound(header)).isTrue();
        InitiatorPdu.Invalid invalid = ch.readInbound();
        assertThat(invalid.rejectReason()).isEqualTo(RejectReason.PROTOCOL_ERROR.code);
        assertThat(invalid.why()).contains("MaxRecvDataSegmentLength");
        assertThat(invalid.frame().bhs().getMedium(5)).isEqualTo(100_000);
        invalid.release();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void anUnknownOpcodeBecomesInvalidNotAnException() {
        EmbeddedChannel ch = channel(false, false, 8192);
        ByteBuf b = nopOut(new byte[0], false, false);
        b.setByte(0, 0x1e);
        assertThat(ch.writeInbound(b)).isTrue();
        InitiatorPdu.Invalid invalid = ch.readInbound();
        assertThat(invalid.rejectReason()).isEqualTo(RejectReason.COMMAND_NOT_SUPPORTED.code);
        invalid.release();
        b = nopOut(new byte[0], false, false);
        b.setByte(0, 0x21); // a target opcode sent by an initiator
        assertThat(ch.writeInbound(b)).isTrue();
        ((InitiatorPdu) ch.readInbound()).release();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void encodesDataInWithPaddingAndDigestsAndReleasesItsData() {
        EmbeddedChannel ch = channel(true, true, 8192);
        ByteBuf data = Unpooled.wrappedBuffer(new byte[] {9, 8, 7, 6, 5, 4, 3});
        ch.writeOutbound(new TargetPdu.DataIn(true, true, false, true, 0, 0, 0x42, 11, 20, 30, 0, 0, 5, data));
        CompositeByteBuf out = Unpooled.compositeBuffer();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.addComponent(true, b);
        }
        assertThat(out.readableBytes()).isEqualTo(48 + 4 + 8 + 4);
        assertThat((int) out.getUnsignedByte(0)).isEqualTo(0x25);
        assertThat((int) out.getUnsignedByte(1)).isEqualTo(0x80 | 0x02 | 0x01); // F, U, S
        assertThat(out.getMedium(5)).isEqualTo(7);
        assertThat(out.getInt(16)).isEqualTo(0x42);
        assertThat(out.getInt(24)).isEqualTo(11);
        assertThat(out.getInt(44)).isEqualTo(5);
        assertThat(out.getIntLE(48)).isEqualTo(Crc32c.of(out, 0, 48));
        CRC32C crc = new CRC32C();
        Crc32c.update(crc, out, 52, 8);
        assertThat(out.getIntLE(60)).isEqualTo((int) crc.getValue());
        out.release();
        assertThat(data.refCnt()).isZero();
        assertThat(ch.finish()).isFalse();
    }
}
