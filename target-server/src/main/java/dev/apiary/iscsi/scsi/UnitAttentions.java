package dev.apiary.iscsi.scsi;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Pending unit attention conditions, one queue per initiator port (SAM-5 §5.14). A condition is
 * reported once, by the next command that is not INQUIRY, REPORT LUNS or REQUEST SENSE.
 */
final class UnitAttentions {
    /** SAM-5 §5.14: a queue this deep only repeats itself; older conditions make way. */
    private static final int MAX_PENDING = 16;

    private final Map<String, Deque<SenseReason>> pending = new HashMap<>();

    synchronized void seen(Nexus nexus) {
        pending.computeIfAbsent(nexus.initiatorPort(), k -> new ArrayDeque<>());
    }

    /** Queues {@code reason} for every initiator port known to this unit, except {@code except}. */
    synchronized void raiseAll(SenseReason reason, Nexus except) {
        for (Map.Entry<String, Deque<SenseReason>> e : pending.entrySet()) {
            if (except == null || !e.getKey().equals(except.initiatorPort())) {
                add(e.getValue(), reason);
            }
        }
    }

    synchronized void raise(String initiatorPort, SenseReason reason) {
        add(pending.computeIfAbsent(initiatorPort, k -> new ArrayDeque<>()), reason);
    }

    private static void add(Deque<SenseReason> q, SenseReason reason) {
        if (q.contains(reason)) {
            return;
        }
        if (q.size() >= MAX_PENDING) {
            q.removeFirst();
        }
        q.addLast(reason);
    }

    /** An I_T nexus ended: its pending conditions go with it, so the map does not grow without end. */
    synchronized void forget(Nexus nexus) {
        pending.remove(nexus.initiatorPort());
    }

    /** The oldest pending condition for this nexus, removed; null when there is none. */
    synchronized SenseReason take(Nexus nexus) {
        Deque<SenseReason> q = pending.get(nexus.initiatorPort());
        return q == null ? null : q.pollFirst();
    }
}
