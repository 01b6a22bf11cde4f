package dev.apiary.pxe.tftp;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Boot-storm admission control: at most {@code limit} transfers run at once; further read requests
 * wait in arrival order until a slot frees. Waiting requests are never failed here; the server
 * gives up on one only after its maximum wait. Thread-safe: transfers end on any event loop.
 */
final class Admission {
    /** A request waiting for a slot; {@code start} runs (on the releasing thread) once admitted. */
    record Waiting(Key key, Runnable start) {
    }

    /**
     * Who asked for what: a second RRQ with the same key is a retransmission, not a new request.
     * Options are part of it because the PXE probe (RRQ with tsize, ERROR after the OACK, new RRQ)
     * usually changes them, so the new RRQ is not mistaken for a retransmission.
     */
    record Key(InetSocketAddress client, String filename, Map<String, String> options) {
    }

    enum Outcome {
        STARTED, QUEUED, DUPLICATE
    }

    private final int limit;
    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    /** Started transfers that have not heard from their client yet. */
    private final Set<Key> unanswered = new HashSet<>();
    private int active;

    Admission(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        this.limit = limit;
    }

    /**
     * Admits at once (running {@code start}), queues, or recognises a retransmission: the client
     * re-sent its RRQ (RFC 1350 §2) while it waited, or before its transfer's first packet reached
     * it. Starting a second transfer then would hold a slot for nothing in a boot storm.
     */
    Outcome submit(Waiting w) {
        synchronized (this) {
            if (unanswered.contains(w.key())) {
                return Outcome.DUPLICATE;
            }
            for (Waiting q : queue) {
                if (q.key().equals(w.key())) {
                    return Outcome.DUPLICATE; // keeps its place in the queue
                }
            }
            if (active >= limit) {
                queue.addLast(w);
                return Outcome.QUEUED;
            }
            active++;
            unanswered.add(w.key());
        }
        w.start().run();
        return Outcome.STARTED;
    }

    /** Removes a waiting request (its wait ran out); false if it was admitted meanwhile. */
    synchronized boolean withdraw(Waiting w) {
        for (Iterator<Waiting> it = queue.iterator(); it.hasNext();) {
            if (it.next() == w) {
                it.remove();
                return true;
            }
        }
        return false;
    }

    /** The transfer's client answered: from now on an RRQ with the same key is a new request. */
    synchronized void answered(Key key) {
        unanswered.remove(key);
    }

    /** A transfer ended: hand its slot to the longest-waiting request, if any. */
    void release(Key key) {
        Waiting next;
        synchronized (this) {
            unanswered.remove(key);
            next = queue.pollFirst();
            if (next == null) {
                active--;
                return;
            }
            unanswered.add(next.key());
        }
        next.start().run();
    }

    synchronized int active() {
        return active;
    }

    synchronized int waiting() {
        return queue.size();
    }
}
