package dev.apiary.iscsi.wire;

/**
 * How a SCSI command ended as the test initiator saw it: the SCSI status (or -1 if the target
 * rejected the command PDU, then {@code rejectReason} is set), the sense data, the Data-In bytes
 * gathered, the residual count and the final PDU's flags byte (O/U bits).
 */
public record ScsiResult(int status, byte[] sense, byte[] data, int residual, int flags, int rejectReason) {
    public static final int GOOD = 0x00;
    public static final int CHECK_CONDITION = 0x02;

    public boolean good() {
        return status == GOOD;
    }

    /** The sense key of fixed (0x70/0x71) or descriptor (0x72/0x73) sense data, or -1 for none. */
    public int senseKey() {
        if (sense == null || sense.length < 3) {
            return -1;
        }
        int code = sense[0] & 0x7f;
        return code >= 0x72 ? sense[1] & 0x0f : sense[2] & 0x0f;
    }

    /** The additional sense code, or -1. */
    public int asc() {
        if (sense == null || sense.length < 3) {
            return -1;
        }
        int code = sense[0] & 0x7f;
        if (code >= 0x72) {
            return sense[2] & 0xff;
        }
        return sense.length > 12 ? sense[12] & 0xff : -1;
    }

    public boolean underflow() {
        return (flags & 0x02) != 0;
    }

    public boolean overflow() {
        return (flags & 0x04) != 0;
    }

    @Override
    public String toString() {
        return String.format("ScsiResult[status=0x%02x senseKey=%d asc=0x%02x data=%d residual=%d reject=%d]", status,
                senseKey(), asc(), data == null ? 0 : data.length, residual, rejectReason);
    }
}
