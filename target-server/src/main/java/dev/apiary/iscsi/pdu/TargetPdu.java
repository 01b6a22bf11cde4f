package dev.apiary.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * PDUs the target sends (RFC 7143 §11). Each record carries everything the encoder writes; the
 * session fills the sequence numbers when it builds one. A non-null {@code data} buffer is owned by
 * the PDU and released by the encoder once written.
 */
public sealed interface TargetPdu {
    int RESERVED_TAG = 0xffffffff;

    /** The data segment, or null for none. */
    ByteBuf data();

    /** §11.13 Login Response. */
    record LoginResponse(
            boolean transit,
            boolean cont,
            int csg,
            int nsg,
            long isid,
            int tsih,
            int itt,
            int statSn,
            int expCmdSn,
            int maxCmdSn,
            int statusClass,
            int statusDetail,
            ByteBuf data)
            implements TargetPdu {}

    /** §11.11 Text Response. */
    record TextResponse(
            boolean fin, boolean cont, long lun, int itt, int ttt, int statSn, int expCmdSn, int maxCmdSn, ByteBuf data)
            implements TargetPdu {}

    /** §11.4 SCSI Response; {@code data} is SenseLength + sense data, or null. */
    record ScsiResponse(
            boolean overflow,
            boolean underflow,
            int status,
            int itt,
            int statSn,
            int expCmdSn,
            int maxCmdSn,
            int expDataSn,
            int residual,
            ByteBuf data)
            implements TargetPdu {}

    /** §11.7 SCSI Data-In; with {@code hasStatus} it also carries the command's GOOD status (§11.7.1). */
    record DataIn(
            boolean fin,
            boolean hasStatus,
            boolean overflow,
            boolean underflow,
            int status,
            long lun,
            int itt,
            int statSn,
            int expCmdSn,
            int maxCmdSn,
            int dataSn,
            int bufferOffset,
            int residual,
            ByteBuf data)
            implements TargetPdu {}

    /** §11.9 Ready To Transfer. */
    record R2T(
            long lun,
            int itt,
            int ttt,
            int statSn,
            int expCmdSn,
            int maxCmdSn,
            int r2tSn,
            int bufferOffset,
            int desiredLength)
            implements TargetPdu {
        @Override
        public ByteBuf data() {
            return null;
        }
    }

    /** §11.19 NOP-In: an answer to a ping (ITT set) or the target's own ping (TTT set). */
    record NopIn(long lun, int itt, int ttt, int statSn, int expCmdSn, int maxCmdSn, ByteBuf data)
            implements TargetPdu {}

    /** §11.6 Task Management Function Response. */
    record TaskMgmtResponse(int response, int itt, int statSn, int expCmdSn, int maxCmdSn) implements TargetPdu {
        @Override
        public ByteBuf data() {
            return null;
        }
    }

    /** §11.15 Logout Response. */
    record LogoutResponse(
            int response, int itt, int statSn, int expCmdSn, int maxCmdSn, int time2Wait, int time2Retain)
            implements TargetPdu {
        @Override
        public ByteBuf data() {
            return null;
        }
    }

    /** §11.17 Reject; {@code data} is the header of the rejected PDU. */
    record Reject(int reason, int statSn, int expCmdSn, int maxCmdSn, int dataSn, ByteBuf data) implements TargetPdu {}

    /** §11.9 Asynchronous Message (e.g. event 1: the target requests a logout). */
    record AsyncMessage(
            long lun, int event, int statSn, int expCmdSn, int maxCmdSn, int param1, int param2, int param3)
            implements TargetPdu {
        @Override
        public ByteBuf data() {
            return null;
        }
    }
}
