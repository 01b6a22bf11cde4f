package dev.apiary.iscsi.session;

import java.util.HashMap;
import java.util.Map;

/**
 * The session's command window (RFC 7143 §3.2.2.1, §4.2.2.1): commands are delivered in CmdSN
 * order; one that arrives early waits for the gap to fill; one outside [ExpCmdSN, MaxCmdSN] or a
 * duplicate is silently ignored. MaxCmdSN advances as commands finish (LIO's approach), so the
 * window is the number of commands the target is still willing to take.
 *
 * <p>Sequence numbers compare with serial number arithmetic (RFC 1982, 32 bits).
 */
final class CommandWindow<T> {
    enum Verdict {
        DELIVER,
        QUEUED,
        IGNORED
    }

    private final Map<Integer, T> early = new HashMap<>();
    private int expCmdSn;
    private int maxCmdSn;

    CommandWindow(int firstCmdSn, int depth) {
        this.expCmdSn = firstCmdSn;
        this.maxCmdSn = firstCmdSn + depth - 1;
    }

    static boolean before(int a, int b) {
        return a - b < 0;
    }

    int expCmdSn() {
        return expCmdSn;
    }

    int maxCmdSn() {
        return maxCmdSn;
    }

    /** Where a non-immediate command with this CmdSN goes. Delivering it advances ExpCmdSN. */
    Verdict accept(int cmdSn, T command) {
        if (cmdSn == expCmdSn) {
            expCmdSn++;
            return Verdict.DELIVER;
        }
        if (before(cmdSn, expCmdSn) || before(maxCmdSn, cmdSn) || early.containsKey(cmdSn)) {
            return Verdict.IGNORED;
        }
        early.put(cmdSn, command);
        return Verdict.QUEUED;
    }

    /** The queued command that is now next in order, or null; taking it advances ExpCmdSN. */
    T nextInOrder() {
        T next = early.remove(expCmdSn);
        if (next != null) {
            expCmdSn++;
        }
        return next;
    }

    /**
     * ABORT TASK named a command that has not arrived (§11.5.1): if it is waiting for a gap it is
     * dropped now; either way it will not run. (One that arrives later is a duplicate of nothing,
     * and runs; an initiator that aborted it does not send it after the abort.)
     */
    void cancel(int cmdSn) {
        T dropped = early.remove(cmdSn);
        if (dropped instanceof dev.apiary.iscsi.pdu.InitiatorPdu p) {
            p.release();
        }
    }

    /** A non-immediate command finished: the window opens by one. */
    void finished() {
        maxCmdSn++;
    }

    /** Commands still waiting for a gap; released when the connection closes. */
    Iterable<T> queued() {
        return early.values();
    }
}
