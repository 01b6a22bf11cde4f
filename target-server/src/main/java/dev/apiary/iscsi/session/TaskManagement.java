package dev.apiary.iscsi.session;

import dev.apiary.iscsi.pdu.InitiatorPdu.TaskMgmtRequest;
import dev.apiary.iscsi.pdu.TargetPdu.TaskMgmtResponse;
import dev.apiary.iscsi.scsi.LogicalUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Task management functions (RFC 7143 §11.5, SAM-5 §7). A response is sent only once every task
 * the function affects has ended (§4.2.3.3), so the initiator may reuse their tags safely.
 */
final class TaskManagement {
    // §11.5.1 function codes
    static final int ABORT_TASK = 1;
    static final int ABORT_TASK_SET = 2;
    static final int CLEAR_ACA = 3;
    static final int CLEAR_TASK_SET = 4;
    static final int LOGICAL_UNIT_RESET = 5;
    static final int TARGET_WARM_RESET = 6;
    static final int TARGET_COLD_RESET = 7;
    static final int TASK_REASSIGN = 8;
    // §11.6.1 responses
    static final int COMPLETE = 0;
    static final int TASK_DOES_NOT_EXIST = 1;
    static final int LUN_DOES_NOT_EXIST = 2;
    static final int REASSIGN_NOT_SUPPORTED = 4;
    static final int NOT_SUPPORTED = 5;

    private final Connection conn;

    TaskManagement(Connection conn) {
        this.conn = conn;
    }

    void handle(TaskMgmtRequest req) {
        req.release();
        if (conn.session.discovery()) {
            respond(req, NOT_SUPPORTED);
            return;
        }
        LogicalUnit lu = conn.session.target().luns().unit(req.lun());
        switch (req.function()) {
            case ABORT_TASK -> abortTask(req);
            case ABORT_TASK_SET, CLEAR_TASK_SET -> {
                if (lu == null) {
                    respond(req, LUN_DOES_NOT_EXIST);
                } else {
                    abortAll(conn.scsi.tasksOn(req.lun()), req);
                }
            }
            case LOGICAL_UNIT_RESET -> {
                if (lu == null) {
                    respond(req, LUN_DOES_NOT_EXIST);
                    return;
                }
                // Every session's tasks end first, then the unit resets, then we answer: a command an
                // initiator sends after seeing the answer must never be caught by this reset.
                otherSessions(req.lun()).thenRun(() -> conn.channel.eventLoop().execute(() -> {
                    lu.reset();
                    abortAll(conn.scsi.tasksOn(req.lun()), req);
                }));
            }
            case TARGET_WARM_RESET, TARGET_COLD_RESET -> targetReset(req);
            case TASK_REASSIGN -> respond(req, REASSIGN_NOT_SUPPORTED); // §11.5.1: needs ERL 2
            default -> respond(req, NOT_SUPPORTED); // CLEAR ACA: NormACA is not supported
        }
    }

    /**
     * §11.5.1, a task that is not found: if its RefCmdSN is still inside the command window and
     * before the request's own CmdSN, the command is on its way; it counts as received (dropped if
     * it was waiting for a gap) and the answer is "function complete". Otherwise (it already ran
     * and was answered, or never will come) the task "does not exist".
     */
    private void abortTask(TaskMgmtRequest req) {
        ScsiTask task = conn.scsi.tasks.get(req.referencedTag());
        if (task == null || task.lun != req.lun()) {
            int ref = req.refCmdSn();
            boolean inWindow = !CommandWindow.before(ref, conn.expCmdSn()) && !CommandWindow.before(conn.maxCmdSn(), ref)
                    && CommandWindow.before(ref, req.cmdSn());
            if (inWindow) {
                conn.window.cancel(ref);
            }
            respond(req, inWindow ? COMPLETE : TASK_DOES_NOT_EXIST);
            return;
        }
        abortAll(List.of(task), req);
    }

    private void abortAll(List<ScsiTask> tasks, TaskMgmtRequest req) {
        if (tasks.isEmpty()) {
            respond(req, COMPLETE);
            return;
        }
        AtomicInteger pending = new AtomicInteger(tasks.size());
        for (ScsiTask t : tasks) {
            conn.scsi.abort(t, false, () -> {
                if (pending.decrementAndGet() == 0) {
                    respond(req, COMPLETE);
                }
            });
        }
    }

    /**
     * Aborts the tasks other sessions have on the unit (all units when {@code lun} is null), each on
     * its own event loop (SAM-5 §7.7: a reset reaches every nexus). Completes once every one of
     * those tasks has ended.
     */
    private CompletableFuture<Void> otherSessions(Long lun) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Session s : conn.portal.sessions().sessionsOf(conn.session.targetName())) {
            if (s != conn.session) {
                Connection other = s.connection();
                CompletableFuture<Void> done = new CompletableFuture<>();
                all.add(done);
                other.channel.eventLoop().execute(() -> {
                    List<ScsiTask> tasks = other.scsi.tasksOn(lun);
                    AtomicInteger pending = new AtomicInteger(tasks.size() + 1);
                    Runnable one = () -> {
                        if (pending.decrementAndGet() == 0) {
                            done.complete(null);
                        }
                    };
                    tasks.forEach(t -> other.scsi.abort(t, true, one));
                    one.run();
                });
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    private void targetReset(TaskMgmtRequest req) {
        otherSessions(null).thenRun(() -> conn.channel.eventLoop().execute(() -> targetResetHere(req)));
    }

    private void targetResetHere(TaskMgmtRequest req) {
        conn.session.target().luns().units().values().forEach(LogicalUnit::reset);
        abortAll(conn.scsi.tasksOn(null), req);
        if (req.function() == TARGET_COLD_RESET) {
            // SAM-5 §7.11: a cold reset also ends every I_T nexus; ours goes after the response is out.
            for (Session s : conn.portal.sessions().sessionsOf(conn.session.targetName())) {
                if (s != conn.session) {
                    s.close();
                }
            }
            conn.channel.eventLoop().execute(conn::close);
        }
    }

    private void respond(TaskMgmtRequest req, int response) {
        conn.finishedNonTask(req);
        conn.send(new TaskMgmtResponse(response, req.itt(), conn.takeStatSn(), conn.expCmdSn(), conn.maxCmdSn()));
        conn.flush();
    }
}
