package dev.apiary.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * PDUs an initiator sends (RFC 7143 §11), parsed from a {@link Frame} by {@link PduParser}. Each
 * record owns its frame: whoever consumes the PDU calls {@link #release()}.
 */
public sealed interface InitiatorPdu {
    /** RFC 7143 §11.2.1.1: reserved ITT for PDUs that expect no response. */
    int RESERVED_TAG = 0xffffffff;

    Frame frame();

    int itt();

    default ByteBuf data() {
        return frame().data();
    }

    default void release() {
        frame().release();
    }

    /** §11.12 Login Request. CSG and NSG are the stage codes 0 (security), 1 (operational), 3 (full feature). */
    record LoginRequest(
            Frame frame,
            boolean transit,
            boolean cont,
            int csg,
            int nsg,
            int versionMax,
            int versionMin,
            long isid,
            int tsih,
            int itt,
            int cid,
            int cmdSn,
            int expStatSn)
            implements InitiatorPdu {}

    /** §11.10 Text Request. */
    record TextRequest(
            Frame frame, boolean immediate, boolean fin, boolean cont, long lun, int itt, int ttt, int cmdSn, int expStatSn)
            implements InitiatorPdu {}

    /** §11.3 SCSI Command. {@code cdb} includes any extended CDB from the AHS (§11.3.7). */
    record ScsiCommand(
            Frame frame,
            boolean immediate,
            boolean fin,
            boolean read,
            boolean write,
            int attributes,
            long lun,
            int itt,
            int expectedLength,
            int cmdSn,
            int expStatSn,
            byte[] cdb)
            implements InitiatorPdu {}

    /** §11.8 SCSI Data-Out. */
    record DataOut(
            Frame frame, boolean fin, long lun, int itt, int ttt, int expStatSn, int dataSn, int bufferOffset)
            implements InitiatorPdu {}

    /** §11.18 NOP-Out: a ping (ITT set) or the answer to a target's NOP-In (ITT reserved). */
    record NopOut(Frame frame, boolean immediate, long lun, int itt, int ttt, int cmdSn, int expStatSn)
            implements InitiatorPdu {}

    /** §11.5 Task Management Function Request. */
    record TaskMgmtRequest(
            Frame frame,
            boolean immediate,
            int function,
            long lun,
            int itt,
            int referencedTag,
            int cmdSn,
            int expStatSn,
            int refCmdSn,
            int expDataSn)
            implements InitiatorPdu {}

    /** §11.14 Logout Request. */
    record LogoutRequest(Frame frame, boolean immediate, int reason, int itt, int cid, int cmdSn, int expStatSn)
            implements InitiatorPdu {}

    /** §11.16 SNACK Request; only meaningful at ErrorRecoveryLevel > 0, which this target does not offer. */
    record SnackRequest(Frame frame, int type, int itt, int ttt, int begRun, int runLength) implements InitiatorPdu {}

    /** A PDU that could not be understood: an unknown or target-only opcode, or a field RFC 7143 forbids. */
    record Invalid(Frame frame, int itt, int rejectReason, String why) implements InitiatorPdu {}
}
