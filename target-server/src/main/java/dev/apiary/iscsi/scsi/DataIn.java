package dev.apiary.iscsi.scsi;

import java.nio.ByteBuffer;

/** Returning parameter data: SPC-4 §4.3.5.6 says a response is cut at the CDB's allocation length. */
final class DataIn {
    private DataIn() {}

    /** Copies as much of {@code data} as the allocation length and the initiator's buffer allow. */
    static ScsiResult put(ScsiRequest r, byte[] data, long allocationLength) {
        int length = (int) Math.min(data.length, allocationLength);
        ByteBuffer in = r.dataIn();
        if (in != null) {
            in.put(data, 0, Math.min(length, in.remaining()));
        }
        return ScsiResult.good(length);
    }

    /** The data segment of a command that sends parameter data (UNMAP, MODE SELECT, ...), as bytes. */
    static byte[] parameters(ScsiRequest r, int parameterListLength) throws SenseException {
        ByteBuffer out = r.dataOut();
        int have = out == null ? 0 : out.remaining();
        if (have < parameterListLength) {
            // SPC-4 §4.3.5.4: the initiator sent less than the CDB announced.
            throw new SenseException(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] b = new byte[parameterListLength];
        out.duplicate().get(b);
        return b;
    }
}
