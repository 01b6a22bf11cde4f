package dev.apiary.iscsi.pdu;

import dev.apiary.iscsi.pdu.InitiatorPdu.DataOut;
import dev.apiary.iscsi.pdu.InitiatorPdu.Invalid;
import dev.apiary.iscsi.pdu.InitiatorPdu.LoginRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.LogoutRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.NopOut;
import dev.apiary.iscsi.pdu.InitiatorPdu.ScsiCommand;
import dev.apiary.iscsi.pdu.InitiatorPdu.SnackRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.TaskMgmtRequest;
import dev.apiary.iscsi.pdu.InitiatorPdu.TextRequest;
import io.netty.buffer.ByteBuf;

/**
 * Turns a framed PDU into a typed record (RFC 7143 §11). A pure function of the bytes: it reads no
 * session state, never throws for bad input, and answers what it cannot understand with
 * {@link Invalid} so the session can send the RFC's Reject.
 */
public final class PduParser {
    private static final int IMMEDIATE = 0x40;
    private static final int FINAL = 0x80;
    /** §11.3.7: AHS type 1 carries the bytes of a CDB longer than 16. */
    private static final int AHS_EXTENDED_CDB = 1;

    private PduParser() {}

    public static InitiatorPdu parse(Frame f) {
        ByteBuf b = f.buf();
        int byte0 = b.getUnsignedByte(0);
        int byte1 = b.getUnsignedByte(1);
        boolean immediate = (byte0 & IMMEDIATE) != 0;
        boolean fin = (byte1 & FINAL) != 0;
        long lun = b.getLong(8);
        int itt = b.getInt(16);
        Opcode op = Opcode.of(byte0);
        if (op == null || !op.fromInitiator()) {
            // §11.17.1: an opcode the target does not know is "Command not supported".
            return new Invalid(f, itt, RejectReason.COMMAND_NOT_SUPPORTED.code,
                    String.format("opcode 0x%02x is not an initiator opcode", byte0 & 0x3f));
        }
        return switch (op) {
            case LOGIN_REQUEST -> new LoginRequest(f, (byte1 & 0x80) != 0, (byte1 & 0x40) != 0,
                    (byte1 >> 2) & 3, byte1 & 3, b.getUnsignedByte(2), b.getUnsignedByte(3),
                    b.getLong(8) >>> 16, b.getUnsignedShort(14), itt, b.getUnsignedShort(20),
                    b.getInt(24), b.getInt(28));
            case TEXT_REQUEST -> new TextRequest(f, immediate, fin, (byte1 & 0x40) != 0, lun, itt,
                    b.getInt(20), b.getInt(24), b.getInt(28));
            case SCSI_COMMAND -> parseScsiCommand(f, b, immediate, fin, byte1, lun, itt);
            case DATA_OUT -> new DataOut(f, fin, lun, itt, b.getInt(20), b.getInt(28), b.getInt(36), b.getInt(40));
            case NOP_OUT -> new NopOut(f, immediate, lun, itt, b.getInt(20), b.getInt(24), b.getInt(28));
            case TASK_MGMT_REQUEST -> new TaskMgmtRequest(f, immediate, byte1 & 0x7f, lun, itt,
                    b.getInt(20), b.getInt(24), b.getInt(28), b.getInt(32), b.getInt(36));
            case LOGOUT_REQUEST -> new LogoutRequest(f, immediate, byte1 & 0x7f, itt,
                    b.getUnsignedShort(20), b.getInt(24), b.getInt(28));
            case SNACK_REQUEST -> new SnackRequest(f, byte1 & 0x0f, itt, b.getInt(20), b.getInt(40), b.getInt(44));
            default -> throw new AssertionError(op);
        };
    }

    private static InitiatorPdu parseScsiCommand(
            Frame f, ByteBuf b, boolean immediate, boolean fin, int byte1, long lun, int itt) {
        boolean read = (byte1 & 0x40) != 0;
        boolean write = (byte1 & 0x20) != 0;
        byte[] cdb;
        if (f.ahsLength() == 0) {
            cdb = new byte[16];
            b.getBytes(32, cdb);
        } else {
            // §11.3.7: AHSLength(2) AHSType(1) reserved(1) then CDB bytes 16..; length counts the reserved byte.
            ByteBuf ahs = f.ahs();
            int ahsLen = ahs.getUnsignedShort(0);
            int type = ahs.getUnsignedByte(2);
            if (type != AHS_EXTENDED_CDB || ahsLen < 2 || ahsLen - 1 + 4 > ahs.readableBytes()) {
                return new Invalid(f, itt, RejectReason.INVALID_PDU_FIELD.code, "unsupported or malformed AHS");
            }
            int extra = ahsLen - 1;
            cdb = new byte[16 + extra];
            b.getBytes(32, cdb, 0, 16);
            ahs.getBytes(4, cdb, 16, extra);
        }
        return new ScsiCommand(f, immediate, fin, read, write, byte1 & 0x07, lun, itt,
                b.getInt(20), b.getInt(24), b.getInt(28), cdb);
    }
}
