package dev.apiary.iscsi.wire;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The test initiator's SCSI tasks in flight (RFC 7143 §4.2.5): it answers R2Ts with Data-Out,
 * gathers Data-In by offset while checking DataSN order, and records how each command ended.
 */
final class TaskTracker {
    private static final class Task {
        final long lun;
        final byte[] out;
        final byte[] in;
        int inEnd;
        int nextDataSn;
        ScsiResult result;

        Task(long lun, byte[] out, int expected, boolean read) {
            this.lun = lun;
            this.out = out;
            this.in = read ? new byte[Math.max(0, expected)] : new byte[0];
        }
    }

    private final Map<Integer, Task> tasks = new HashMap<>();
    private int r2tsAnswered;

    void track(int itt, long lun, byte[] out, int expected, boolean read) {
        tasks.put(itt, new Task(lun, out, expected, read));
    }

    boolean tracked(int itt) {
        return tasks.containsKey(itt);
    }

    /** The command's result once it ended, else null; a result is handed out once. */
    ScsiResult take(int itt) {
        Task t = tasks.get(itt);
        if (t == null || t.result == null) {
            return null;
        }
        tasks.remove(itt);
        return t.result;
    }

    int r2tsAnswered() {
        return r2tsAnswered;
    }

    /** Applies {@code p} to the task it belongs to; false if it belongs to none. */
    boolean dispatch(Pdu p, TestInitiator ini) throws IOException {
        int itt = p.opcode() == Pdu.REJECT && p.data().length >= Pdu.BHS
                ? new Pdu(Arrays.copyOf(p.data(), Pdu.BHS), null).itt() : p.itt();
        Task t = tasks.get(itt);
        if (t == null || t.result != null) {
            return false;
        }
        switch (p.opcode()) {
            case Pdu.R2T -> answerR2t(t, itt, p, ini);
            case Pdu.DATA_IN -> {
                int off = p.i32(40);
                byte[] d = p.data();
                if (p.i32(36) != t.nextDataSn++ || off < 0 || off + d.length > t.in.length) {
                    throw new IOException("bad Data-In for ITT " + itt + ": DataSN " + p.i32(36) + " offset " + off);
                }
                System.arraycopy(d, 0, t.in, off, d.length);
                t.inEnd = Math.max(t.inEnd, off + d.length);
                if ((p.flags() & 0x01) != 0) {
                    t.result = new ScsiResult(p.u8(3), null, Arrays.copyOf(t.in, t.inEnd), p.i32(44), p.flags(), 0);
                }
            }
            case Pdu.SCSI_RESPONSE -> {
                byte[] d = p.data();
                byte[] sense = null;
                if (d.length >= 2) {
                    int n = Math.min(((d[0] & 0xff) << 8) | (d[1] & 0xff), d.length - 2);
                    sense = Arrays.copyOfRange(d, 2, 2 + n);
                }
                t.result = new ScsiResult(p.u8(3), sense, Arrays.copyOf(t.in, t.inEnd), p.i32(44), p.flags(), 0);
            }
            case Pdu.REJECT -> t.result = new ScsiResult(-1, null, new byte[0], 0, p.flags(), p.u8(2));
            default -> {
                return false;
            }
        }
        return true;
    }

    /** §13.10: unsolicited Data-Out (TTT reserved, DataSN from 0) for bytes [from, to) of a write. */
    void sendUnsolicited(TestInitiator ini, long lun, int itt, byte[] out, int from, int to) throws IOException {
        int chunk = ini.dataOutChunk();
        int dataSn = 0;
        for (int at = from; at < to; at += chunk) {
            int n = Math.min(chunk, to - at);
            ini.sendDataOut(lun, itt, Pdu.RESERVED, dataSn++, at, Arrays.copyOfRange(out, at, at + n), at + n == to);
        }
    }

    /** §11.9/§11.8: answer an R2T with Data-Out PDUs of at most the target's MaxRecvDataSegmentLength. */
    private void answerR2t(Task t, int itt, Pdu r2t, TestInitiator ini) throws IOException {
        int offset = r2t.i32(40);
        int length = r2t.i32(44);
        if (t.out == null || offset < 0 || length <= 0 || offset + length > t.out.length) {
            throw new IOException("R2T for ITT " + itt + " asks for " + length + " bytes at " + offset);
        }
        r2tsAnswered++;
        int chunk = ini.dataOutChunk();
        int dataSn = 0;
        for (int at = offset; at < offset + length; at += chunk) {
            int n = Math.min(chunk, offset + length - at);
            ini.sendDataOut(t.lun, itt, r2t.ttt(), dataSn++, at, Arrays.copyOfRange(t.out, at, at + n),
                    at + n == offset + length);
        }
    }
}
