package dev.apiary.iscsi.session;

import dev.apiary.iscsi.login.SessionParams;
import dev.apiary.iscsi.pdu.InitiatorPdu.DataOut;
import dev.apiary.iscsi.pdu.InitiatorPdu.ScsiCommand;
import dev.apiary.iscsi.pdu.RejectReason;
import dev.apiary.iscsi.pdu.TargetPdu;
import dev.apiary.iscsi.pdu.TargetPdu.DataIn;
import dev.apiary.iscsi.pdu.TargetPdu.R2T;
import dev.apiary.iscsi.pdu.TargetPdu.ScsiResponse;
import dev.apiary.iscsi.scsi.ScsiRequest;
import dev.apiary.iscsi.scsi.ScsiResult;
import dev.apiary.iscsi.scsi.ScsiStatus;
import dev.apiary.iscsi.scsi.SenseEncoder;
import dev.apiary.iscsi.scsi.SenseReason;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SCSI data path of one connection (RFC 7143 §4.2.5, §11.3-§11.9): a command arrives, its
 * write data is gathered (immediate, unsolicited, then solicited by R2T), it is started on the SCSI
 * executor, and its result returns as Data-In PDUs, the last carrying GOOD status, or as a SCSI
 * Response. Runs on the connection's event loop except the execution itself.
 */
final class ScsiTasks {
    private static final Logger log = LoggerFactory.getLogger(ScsiTasks.class);
    /** The most data one command may move; larger transfers are refused before anything is buffered. */
    static final int MAX_TASK_BYTES = 32 << 20;

    private final Connection conn;
    final Map<Integer, ScsiTask> tasks = new HashMap<>();

    ScsiTasks(Connection conn) {
        this.conn = conn;
    }

    private SessionParams params() {
        return conn.session.params();
    }

    void command(ScsiCommand cmd) {
        try {
            if (conn.session.discovery()) {
                // §4.3: a discovery session carries only Text, NOP and Logout.
                conn.finishedNonTask(cmd);
                conn.reject(RejectReason.PROTOCOL_ERROR, cmd);
                return;
            }
            if (tasks.containsKey(cmd.itt())) {
                conn.finishedNonTask(cmd);
                conn.reject(RejectReason.TASK_IN_PROGRESS, cmd);
                return;
            }
            ScsiTask task = new ScsiTask(cmd);
            int immediate = cmd.data().readableBytes();
            if (cmd.read() && cmd.write()) {
                // Bidirectional commands are not among the commands this target implements.
                tasks.put(task.itt, task);
                fail(task, SenseReason.INVALID_FIELD_IN_CDB);
                return;
            }
            if (immediate > 0 && (!cmd.write() || !params().immediateData() || immediate > params().firstBurstLength()
                    || immediate > task.expectedLength)) {
                // §11.3.4 and §13.11: data the initiator was not allowed to send with the command.
                conn.finishedNonTask(cmd);
                conn.reject(RejectReason.PROTOCOL_ERROR, cmd);
                return;
            }
            tasks.put(task.itt, task);
            if (task.expectedLength < 0 || task.expectedLength > MAX_TASK_BYTES) {
                fail(task, SenseReason.INVALID_FIELD_IN_CDB);
                return;
            }
            if (cmd.write() && task.expectedLength > 0) {
                ByteBuf data = cmd.data();
                if (immediate == task.expectedLength) {
                    task.dataOut = data.retainedSlice(); // all the data came with the command: no copy
                } else {
                    task.dataOut = conn.channel.alloc().buffer(task.expectedLength);
                    task.dataOut.writeBytes(data, data.readerIndex(), immediate);
                }
                task.received = immediate;
                task.unsolicitedNext = immediate;
                task.unsolicitedEnd = params().initialR2T() ? immediate
                        : Math.max(immediate, Math.min(params().firstBurstLength(), task.expectedLength));
                task.nextSolicit = task.unsolicitedEnd;
                solicit(task);
            }
            if (task.allDataReceived()) {
                execute(task);
            }
        } finally {
            cmd.release();
        }
    }

    /** §11.8: Data-Out for a task: checked against the burst it belongs to, then copied in place. */
    void dataOut(DataOut d) {
        try {
            ScsiTask task = tasks.get(d.itt());
            if (task == null || task.state != ScsiTask.State.RECEIVING_DATA || task.dataOut == null) {
                return; // a task that ended or was aborted: its remaining data is dropped (§4.2.3.3)
            }
            int length = d.data().readableBytes();
            int offset = d.bufferOffset();
            boolean ok;
            if (d.ttt() == TargetPdu.RESERVED_TAG) {
                ok = offset == task.unsolicitedNext && d.dataSn() == task.unsolicitedDataSn
                        && offset + length <= task.unsolicitedEnd;
                if (ok) {
                    task.unsolicitedNext += length;
                    task.unsolicitedDataSn++;
                }
            } else {
                ScsiTask.Burst burst = task.bursts.peekFirst();
                ok = burst != null && burst.ttt() == d.ttt() && offset == burst.offset() + task.burstNext
                        && d.dataSn() == task.burstDataSn && task.burstNext + length <= burst.length();
                if (ok) {
                    task.burstNext += length;
                    task.burstDataSn++;
                    if (task.burstNext == burst.length()) {
                        task.bursts.pollFirst();
                        task.burstNext = 0;
                        task.burstDataSn = 0;
                    }
                }
            }
            if (!ok) {
                // §7.1 and §11.8.5: a DataSN or offset out of sequence means data went missing; at
                // ErrorRecoveryLevel 0 it cannot be asked for again, so the command ends with
                // CHECK CONDITION (ABORTED COMMAND) and its remaining Data-Out is discarded.
                log.info("[iscsi] {}: Data-Out out of sequence for ITT {} (offset {}, DataSN {})",
                        conn.session.initiatorName(), Integer.toHexString(task.itt), offset, d.dataSn());
                fail(task, SenseReason.DATA_PHASE_ERROR);
                return;
            }
            task.dataOut.setBytes(offset, d.data(), d.data().readerIndex(), length);
            task.received += length;
            solicit(task);
            if (task.allDataReceived()) {
                execute(task);
            }
        } finally {
            d.release();
        }
    }

    /** §11.9: keep up to MaxOutstandingR2T bursts of at most MaxBurstLength asked for. */
    private void solicit(ScsiTask task) {
        while (task.bursts.size() < params().maxOutstandingR2T() && task.nextSolicit < task.expectedLength) {
            int length = Math.min(params().maxBurstLength(), task.expectedLength - task.nextSolicit);
            ScsiTask.Burst b = new ScsiTask.Burst(conn.nextTtt(), task.nextSolicit, length, task.nextR2tSn++);
            task.bursts.addLast(b);
            task.nextSolicit += length;
            conn.send(new R2T(task.lun, task.itt, b.ttt(), conn.currentStatSn(), conn.expCmdSn(), conn.maxCmdSn(),
                    b.r2tSn(), b.offset(), b.length()));
        }
    }

    private void execute(ScsiTask task) {
        task.state = ScsiTask.State.EXECUTING;
        ByteBuffer out = task.dataOut == null ? null : task.dataOut.nioBuffer(task.dataOut.readerIndex(), task.received);
        ByteBuf in = null;
        ByteBuffer inView = null;
        if (task.command.read() && task.expectedLength > 0) {
            in = conn.channel.alloc().directBuffer(task.expectedLength);
            inView = in.nioBuffer(0, task.expectedLength);
        }
        ScsiRequest request = new ScsiRequest(conn.session.nexus(), task.lun, task.command.cdb(), out, inView);
        ByteBuf dataIn = in;
        ByteBuffer view = inView;
        var luns = conn.session.target().luns();
        var loop = conn.channel.eventLoop();
        // What comes before the I/O may block (a file volume's I/O, a lock): on the SCSI executor,
        // unless the unit says this command cannot block (a READ or WRITE to RBD), which then
        // starts here. The I/O completes wherever the volume completes it (librbd's callback
        // thread), and the answer goes back to the connection's event loop.
        Runnable submit = () -> {
            CompletionStage<ScsiResult> result;
            try {
                result = luns.submit(request);
            } catch (RuntimeException e) {
                result = CompletableFuture.failedFuture(e);
            }
            result.whenComplete((r, e) -> {
                if (e != null) {
                    log.error("[scsi] command failed", e);
                    r = ScsiResult.check(SenseEncoder.encode(SenseReason.INTERNAL_TARGET_FAILURE, false, 0, false));
                }
                ScsiResult done = r;
                int produced = view == null ? 0 : view.position();
                loop.execute(() -> complete(task, done, dataIn, produced));
            });
        };
        if (luns.submitsWithoutWaiting(request)) {
            submit.run();
        } else {
            conn.portal.scsiExecutor().execute(submit);
        }
    }

    private void fail(ScsiTask task, SenseReason reason) {
        complete(task, ScsiResult.check(SenseEncoder.encode(reason, false, 0, false)), null, 0);
    }

    /** Sends the result (§11.4, §11.7): Data-In PDUs cut at the initiator's MaxRecvDataSegmentLength. */
    private void complete(ScsiTask task, ScsiResult result, ByteBuf dataIn, int produced) {
        tasks.remove(task.itt, task);
        task.releaseBuffers();
        task.state = ScsiTask.State.DONE;
        if (task.nonImmediate && conn.window != null) {
            conn.window.finished();
        }
        task.done();
        if (task.aborted || !conn.channel.isActive()) {
            if (dataIn != null) {
                dataIn.release();
            }
            if (task.reportAborted && conn.channel.isActive()) {
                sendTaskAborted(task);
            }
            return;
        }
        int edtl = task.expectedLength;
        boolean good = result.status() == ScsiStatus.GOOD || result.status() == ScsiStatus.CONDITION_MET;
        int residual = 0;
        boolean overflow = false;
        boolean underflow = false;
        if ((good || result.transferLength() > 0) && result.transferLength() != edtl) {
            overflow = result.transferLength() > edtl;
            underflow = !overflow;
            residual = Math.abs(result.transferLength() - edtl);
        }
        int sent = Math.min(produced, edtl);
        boolean collapse = good && result.sense() == null && sent > 0;
        int dataSn = 0;
        if (sent > 0) {
            int pduMax = params().initiatorMaxRecvDataSegmentLength();
            int burst = params().maxBurstLength();
            for (int offset = 0; offset < sent; ) {
                int n = Math.min(pduMax, Math.min(sent - offset, burst - offset % burst));
                boolean last = offset + n == sent;
                boolean endOfSequence = last || (offset + n) % burst == 0;
                boolean status = last && collapse;
                conn.send(new DataIn(endOfSequence, status, overflow, underflow, result.status(), task.lun, task.itt,
                        status ? conn.takeStatSn() : 0, conn.expCmdSn(), conn.maxCmdSn(), dataSn++, offset,
                        status ? residual : 0, dataIn.retainedSlice(offset, n)));
                offset += n;
            }
        }
        if (dataIn != null) {
            dataIn.release();
        }
        if (!collapse) {
            ByteBuf sense = null;
            if (result.sense() != null) {
                sense = conn.channel.alloc().buffer(2 + result.sense().length);
                sense.writeShort(result.sense().length).writeBytes(result.sense());
            }
            int expDataSn = task.command.read() ? dataSn : task.nextR2tSn;
            conn.send(new ScsiResponse(overflow, underflow, result.status(), task.itt, conn.takeStatSn(),
                    conn.expCmdSn(), conn.maxCmdSn(), expDataSn, residual, sense));
        }
        conn.flush();
    }

    private void sendTaskAborted(ScsiTask task) {
        conn.send(new ScsiResponse(false, false, ScsiStatus.TASK_ABORTED, task.itt, conn.takeStatSn(),
                conn.expCmdSn(), conn.maxCmdSn(), 0, 0, null));
        conn.flush();
    }

    /** Tasks of this connection on {@code lun} (all LUNs when null), for task management. */
    List<ScsiTask> tasksOn(Long lun) {
        List<ScsiTask> l = new ArrayList<>();
        for (ScsiTask t : tasks.values()) {
            if (lun == null || t.lun == lun) {
                l.add(t);
            }
        }
        return l;
    }

    /**
     * Aborts a task (SAM-5 §7.2): one still gathering data ends now; one executing ends when it
     * returns, and {@code whenDone} runs then. A task of this nexus ends silently (its initiator
     * asked); one aborted by another nexus ({@code byOther}) gets TASK ABORTED status (TAS = 1).
     */
    void abort(ScsiTask task, boolean byOther, Runnable whenDone) {
        task.aborted = true;
        task.reportAborted = byOther;
        if (task.state == ScsiTask.State.RECEIVING_DATA) {
            tasks.remove(task.itt, task);
            task.releaseBuffers();
            task.state = ScsiTask.State.DONE;
            if (task.nonImmediate) {
                conn.window.finished();
            }
            task.done();
            if (byOther) {
                sendTaskAborted(task);
            }
        }
        task.whenDone(whenDone);
    }

    void connectionClosed() {
        for (ScsiTask t : tasks.values()) {
            t.aborted = true;
            if (t.state == ScsiTask.State.RECEIVING_DATA) {
                t.releaseBuffers();
            }
        }
        tasks.clear();
    }
}
