package dev.apiary.iscsi.pdu;

import dev.apiary.iscsi.pdu.TargetPdu.AsyncMessage;
import dev.apiary.iscsi.pdu.TargetPdu.DataIn;
import dev.apiary.iscsi.pdu.TargetPdu.LoginResponse;
import dev.apiary.iscsi.pdu.TargetPdu.LogoutResponse;
import dev.apiary.iscsi.pdu.TargetPdu.NopIn;
import dev.apiary.iscsi.pdu.TargetPdu.R2T;
import dev.apiary.iscsi.pdu.TargetPdu.Reject;
import dev.apiary.iscsi.pdu.TargetPdu.ScsiResponse;
import dev.apiary.iscsi.pdu.TargetPdu.TaskMgmtResponse;
import dev.apiary.iscsi.pdu.TargetPdu.TextResponse;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes target PDUs (RFC 7143 §11). The data segment is passed on as its own buffer, not copied,
 * so a read's data goes from the volume's buffer to the socket untouched; padding and digests
 * follow in a small trailer buffer.
 */
@ChannelHandler.Sharable
public final class PduEncoder extends MessageToMessageEncoder<TargetPdu> {
    public static final PduEncoder INSTANCE = new PduEncoder();
    private static final int F = 0x80;

    private PduEncoder() {
        super(TargetPdu.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, TargetPdu pdu, List<Object> out) {
        WireSettings wire = WireSettings.of(ctx.channel());
        ByteBuf data = pdu.data();
        int dataLength = data == null ? 0 : data.readableBytes();
        ByteBuf h = ctx.alloc().buffer(Frame.BHS_LENGTH + 4);
        h.writeZero(Frame.BHS_LENGTH);
        h.setMedium(5, dataLength);
        writeHeader(pdu, h);
        if (wire.headerDigest()) {
            h.writeIntLE(Crc32c.of(h, 0, Frame.BHS_LENGTH));
        }
        out.add(h);
        if (dataLength == 0) {
            if (data != null) {
                data.release();
            }
            return;
        }
        out.add(data);
        int pad = -dataLength & 3;
        if (pad > 0 || wire.dataDigest()) {
            ByteBuf trailer = ctx.alloc().buffer(pad + 4);
            trailer.writeZero(pad);
            if (wire.dataDigest()) {
                CRC32C crc = new CRC32C();
                Crc32c.update(crc, data, data.readerIndex(), dataLength);
                Crc32c.update(crc, trailer, 0, pad);
                trailer.writeIntLE((int) crc.getValue());
            }
            out.add(trailer);
        }
    }

    private static void writeHeader(TargetPdu pdu, ByteBuf h) {
        switch (pdu) {
            case LoginResponse p -> {
                h.setByte(0, Opcode.LOGIN_RESPONSE.code);
                h.setByte(1, (p.transit() ? 0x80 : 0) | (p.cont() ? 0x40 : 0) | (p.csg() << 2) | p.nsg());
                h.setLong(8, p.isid() << 16 | p.tsih());
                h.setInt(16, p.itt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
                h.setByte(36, p.statusClass());
                h.setByte(37, p.statusDetail());
            }
            case TextResponse p -> {
                h.setByte(0, Opcode.TEXT_RESPONSE.code);
                h.setByte(1, (p.fin() ? F : 0) | (p.cont() ? 0x40 : 0));
                h.setLong(8, p.lun());
                h.setInt(16, p.itt());
                h.setInt(20, p.ttt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
            }
            case ScsiResponse p -> {
                h.setByte(0, Opcode.SCSI_RESPONSE.code);
                h.setByte(1, F | (p.overflow() ? 0x04 : 0) | (p.underflow() ? 0x02 : 0));
                h.setByte(2, 0); // §11.4.3: Command Completed at Target
                h.setByte(3, p.status());
                h.setInt(16, p.itt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
                h.setInt(36, p.expDataSn());
                h.setInt(44, p.residual());
            }
            case DataIn p -> {
                h.setByte(0, Opcode.DATA_IN.code);
                int flags = (p.fin() ? F : 0) | (p.hasStatus() ? 0x01 : 0);
                if (p.hasStatus()) {
                    // §11.7.5: residual flags are valid only with the S bit.
                    flags |= (p.overflow() ? 0x04 : 0) | (p.underflow() ? 0x02 : 0);
                    h.setByte(3, p.status());
                    h.setInt(44, p.residual());
                }
                h.setByte(1, flags);
                h.setLong(8, p.lun());
                h.setInt(16, p.itt());
                h.setInt(20, TargetPdu.RESERVED_TAG);
                setSequence(h, p.hasStatus() ? p.statSn() : 0, p.expCmdSn(), p.maxCmdSn());
                h.setInt(36, p.dataSn());
                h.setInt(40, p.bufferOffset());
            }
            case R2T p -> {
                h.setByte(0, Opcode.R2T.code);
                h.setByte(1, F);
                h.setLong(8, p.lun());
                h.setInt(16, p.itt());
                h.setInt(20, p.ttt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
                h.setInt(36, p.r2tSn());
                h.setInt(40, p.bufferOffset());
                h.setInt(44, p.desiredLength());
            }
            case NopIn p -> {
                h.setByte(0, Opcode.NOP_IN.code);
                h.setByte(1, F);
                h.setLong(8, p.lun());
                h.setInt(16, p.itt());
                h.setInt(20, p.ttt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
            }
            case TaskMgmtResponse p -> {
                h.setByte(0, Opcode.TASK_MGMT_RESPONSE.code);
                h.setByte(1, F);
                h.setByte(2, p.response());
                h.setInt(16, p.itt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
            }
            case LogoutResponse p -> {
                h.setByte(0, Opcode.LOGOUT_RESPONSE.code);
                h.setByte(1, F);
                h.setByte(2, p.response());
                h.setInt(16, p.itt());
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
                h.setShort(40, p.time2Wait());
                h.setShort(42, p.time2Retain());
            }
            case Reject p -> {
                h.setByte(0, Opcode.REJECT.code);
                h.setByte(1, F);
                h.setByte(2, p.reason());
                h.setInt(16, TargetPdu.RESERVED_TAG);
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
                h.setInt(36, p.dataSn());
            }
            case AsyncMessage p -> {
                h.setByte(0, Opcode.ASYNC_MESSAGE.code);
                h.setByte(1, F);
                h.setLong(8, p.lun());
                h.setInt(16, TargetPdu.RESERVED_TAG);
                setSequence(h, p.statSn(), p.expCmdSn(), p.maxCmdSn());
                h.setByte(36, p.event());
                h.setShort(38, p.param1());
                h.setShort(40, p.param2());
                h.setShort(42, p.param3());
            }
        }
    }

    private static void setSequence(ByteBuf h, int statSn, int expCmdSn, int maxCmdSn) {
        h.setInt(24, statSn);
        h.setInt(28, expCmdSn);
        h.setInt(32, maxCmdSn);
    }
}
