package dev.apiary.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Cuts the TCP stream into PDUs (RFC 7143 §11.2: BHS, AHS, header digest, data segment padded to
 * four bytes, data digest) and hands each to {@link PduParser}.
 *
 * <p>A PDU that cannot be framed safely (a data segment over the negotiated limit, a header digest
 * that does not match) becomes an {@link InitiatorPdu.Invalid} and the decoder then discards the
 * rest of the stream: once a length field is not trusted there is no next PDU boundary, so the
 * session answers with a Reject and drops the connection (ErrorRecoveryLevel 0, §7.1).
 */
public final class IscsiFrameDecoder extends ByteToMessageDecoder {
    private static final int MAX_AHS = 255 * 4;
    private boolean broken;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < Frame.BHS_LENGTH) {
            return;
        }
        WireSettings wire = WireSettings.of(ctx.channel());
        int start = in.readerIndex();
        int ahsLength = in.getUnsignedByte(start + 4) * 4;
        int dataLength = in.getUnsignedMedium(start + 5);
        int headerEnd = Frame.BHS_LENGTH + ahsLength;
        int dataOffset = headerEnd + (wire.headerDigest() ? 4 : 0);
        int padded = (dataLength + 3) & ~3;
        int frameLength = dataOffset + padded + (wire.dataDigest() && dataLength > 0 ? 4 : 0);

        if (dataLength > wire.maxRecvDataSegmentLength() || ahsLength > MAX_AHS) {
            // §13.12: the initiator may not exceed the target's declared MaxRecvDataSegmentLength.
            fail(in, out, RejectReason.PROTOCOL_ERROR, "data segment of " + dataLength
                    + " bytes exceeds MaxRecvDataSegmentLength " + wire.maxRecvDataSegmentLength());
            return;
        }
        if (in.readableBytes() < frameLength) {
            return;
        }
        if (wire.headerDigest()) {
            int expected = Integer.reverseBytes(in.getInt(start + headerEnd));
            if (Crc32c.of(in, start, headerEnd) != expected) {
                // §7.8: a header digest error leaves no trustworthy length; at ERL 0 the connection ends.
                fail(in, out, RejectReason.PROTOCOL_ERROR, "header digest mismatch");
                return;
            }
        }
        ByteBuf frameBuf = in.readRetainedSlice(frameLength);
        Frame frame = new Frame(frameBuf, ahsLength, dataOffset, dataLength);
        if (wire.dataDigest() && dataLength > 0) {
            int expected = Integer.reverseBytes(frameBuf.getInt(dataOffset + padded));
            if (Crc32c.of(frameBuf, dataOffset, padded) != expected) {
                // §7.8: a data digest error is answered with Reject, reason "Data (payload) Digest Error".
                out.add(new InitiatorPdu.Invalid(frame, frameBuf.getInt(16),
                        RejectReason.DATA_DIGEST_ERROR.code, "data digest mismatch"));
                return;
            }
        }
        out.add(PduParser.parse(frame));
    }

    private void fail(ByteBuf in, List<Object> out, RejectReason reason, String why) {
        ByteBuf header = Unpooled.buffer(Frame.BHS_LENGTH);
        in.getBytes(in.readerIndex(), header, Frame.BHS_LENGTH);
        in.skipBytes(in.readableBytes());
        broken = true;
        out.add(new InitiatorPdu.Invalid(new Frame(header, 0, Frame.BHS_LENGTH, 0), header.getInt(16), reason.code, why));
    }

    /** True once the stream was found unframeable; the session closes the connection. */
    public boolean broken() {
        return broken;
    }
}
