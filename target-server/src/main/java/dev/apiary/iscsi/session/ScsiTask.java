package dev.apiary.iscsi.session;

import dev.apiary.iscsi.pdu.InitiatorPdu.ScsiCommand;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One SCSI command in flight on a connection, from its SCSI Command PDU to its response: the
 * data it still expects (immediate, unsolicited, then solicited by R2T, RFC 7143 §4.2.5) and
 * whether task management aborted it. Touched only on the connection's event loop.
 */
final class ScsiTask {
    enum State {
        RECEIVING_DATA,
        EXECUTING,
        DONE
    }

    /** One outstanding R2T: the burst it asked for and the DataSN expected next within it (§11.8.5). */
    record Burst(int ttt, int offset, int length, int r2tSn) {}

    final ScsiCommand command;
    final int itt;
    final long lun;
    final int expectedLength;
    final boolean nonImmediate;
    State state = State.RECEIVING_DATA;
    boolean aborted;
    /**
     * Aborted by another I_T nexus's task management (a LUN reset on another path): the control
     * mode page's TAS bit promises such tasks a TASK ABORTED status rather than silence (SAM-5 §5.6).
     */
    boolean reportAborted;

    /** Write data gathered so far (buffer of expectedLength bytes); null for commands without data-out. */
    ByteBuf dataOut;
    int received;
    /** End of the unsolicited burst: data below it needs no R2T (§13.10, §13.14). */
    int unsolicitedEnd;
    /** Offset of the next byte of unsolicited data, and the DataSN expected with it. */
    int unsolicitedNext;
    int unsolicitedDataSn;
    /** Next offset to ask for with an R2T, and the next R2TSN. */
    int nextSolicit;
    int nextR2tSn;
    final ArrayDeque<Burst> bursts = new ArrayDeque<>();
    /** Progress inside the oldest outstanding burst. */
    int burstNext;
    int burstDataSn;

    ScsiTask(ScsiCommand command) {
        this.command = command;
        this.itt = command.itt();
        this.lun = command.lun();
        this.expectedLength = command.expectedLength();
        this.nonImmediate = !command.immediate();
    }

    private List<Runnable> whenDone;

    /** Runs {@code r} once the task is done (now, if it already is); task management waits this way. */
    void whenDone(Runnable r) {
        if (r == null) {
            return;
        }
        if (state == State.DONE) {
            r.run();
        } else {
            if (whenDone == null) {
                whenDone = new ArrayList<>();
            }
            whenDone.add(r);
        }
    }

    void done() {
        if (whenDone != null) {
            List<Runnable> l = whenDone;
            whenDone = null;
            l.forEach(Runnable::run);
        }
    }

    boolean allDataReceived() {
        return received >= expectedLength || dataOut == null;
    }

    void releaseBuffers() {
        if (dataOut != null) {
            dataOut.release();
            dataOut = null;
        }
    }
}
