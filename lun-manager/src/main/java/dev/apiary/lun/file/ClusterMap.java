package dev.apiary.lun.file;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Where each cluster of an overlay layer lives: two bits per cluster, 32 clusters per word. A
 * second bit array marks clusters whose state changed since the last flush, so a flush persists
 * only those (as runs, in the journal).
 */
final class ClusterMap {
    /** The cluster is not in this layer: read it from the parent. */
    static final int ABSENT = 0;
    /** The cluster's data is in this layer's data file. */
    static final int PRESENT = 1;
    /** The cluster was unmapped in this layer: it reads as zeros, whatever the parent holds. */
    static final int ZERO = 2;

    /** A run of clusters in one state, as the journal stores it. */
    record Run(long start, long count, int state) {}

    private volatile AtomicLongArray states;
    private volatile AtomicLongArray dirty;
    private volatile long clusters;

    ClusterMap(long clusters) {
        this.clusters = clusters;
        this.states = new AtomicLongArray(words(clusters, 32));
        this.dirty = new AtomicLongArray(words(clusters, 64));
    }

    private static int words(long n, int perWord) {
        long w = (n + perWord - 1) / perWord;
        if (w > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("volume too large for one map: " + n + " clusters");
        }
        return (int) w;
    }

    long clusters() {
        return clusters;
    }

    int get(long cluster) {
        if (cluster >= clusters) {
            return ABSENT;
        }
        long word = states.get((int) (cluster >>> 5));
        return (int) (word >>> ((cluster & 31) * 2)) & 3;
    }

    /** Sets a range to {@code state} and marks it dirty (to be journaled at the next flush). */
    void set(long start, long count, int state) {
        for (long c = start; c < start + count; c++) {
            setOne(c, state);
            markDirty(c);
        }
    }

    /** Marks runs dirty again: a flush that failed must leave them for the next one. */
    void markDirty(List<Run> runs) {
        for (Run r : runs) {
            for (long c = r.start(); c < r.start() + r.count(); c++) {
                markDirty(c);
            }
        }
    }

    private void markDirty(long c) {
        int d = (int) (c >>> 6);
        long bit = 1L << (c & 63);
        long old;
        do {
            old = dirty.get(d);
        } while ((old & bit) == 0 && !dirty.compareAndSet(d, old, old | bit));
    }

    /** Sets a state without marking it dirty: loading and replaying what is already on disk. */
    void load(long start, long count, int state) {
        for (long c = start; c < start + count; c++) {
            setOne(c, state);
        }
    }

    private void setOne(long c, int state) {
        int w = (int) (c >>> 5);
        int shift = (int) (c & 31) * 2;
        long old;
        long updated;
        do {
            old = states.get(w);
            updated = (old & ~(3L << shift)) | ((long) state << shift);
        } while (old != updated && !states.compareAndSet(w, old, updated));
    }

    /**
     * Takes the dirty marks and returns the runs of states they cover. Called by a flush after the
     * data file is durable, so every state it returns points at durable data.
     */
    List<Run> takeDirty() {
        List<Run> runs = new ArrayList<>();
        AtomicLongArray d = dirty;
        long runStart = -1;
        int runState = -1;
        long runEnd = -1;
        for (int w = 0; w < d.length(); w++) {
            long bits = d.getAndSet(w, 0);
            while (bits != 0) {
                int b = Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                long c = (long) w * 64 + b;
                int s = get(c);
                if (c == runEnd && s == runState) {
                    runEnd++;
                } else {
                    if (runStart >= 0) {
                        runs.add(new Run(runStart, runEnd - runStart, runState));
                    }
                    runStart = c;
                    runEnd = c + 1;
                    runState = s;
                }
            }
        }
        if (runStart >= 0) {
            runs.add(new Run(runStart, runEnd - runStart, runState));
        }
        return runs;
    }

    /** Grows the map; new clusters are ABSENT (they read from the parent, or as zeros past its end). */
    synchronized void grow(long newClusters) {
        if (newClusters <= clusters) {
            return;
        }
        AtomicLongArray s = new AtomicLongArray(words(newClusters, 32));
        for (int i = 0; i < states.length(); i++) {
            s.set(i, states.get(i));
        }
        AtomicLongArray d = new AtomicLongArray(words(newClusters, 64));
        for (int i = 0; i < dirty.length(); i++) {
            d.set(i, dirty.get(i));
        }
        states = s;
        dirty = d;
        clusters = newClusters;
    }

    /** Packed states, 4 clusters per byte, for a checkpoint. */
    byte[] pack() {
        byte[] b = new byte[(int) ((clusters + 3) / 4)];
        for (long c = 0; c < clusters; c++) {
            b[(int) (c >>> 2)] |= (byte) (get(c) << ((c & 3) * 2));
        }
        return b;
    }

    /** Loads packed states; an unused state value (3) means the bytes are not a map. */
    void unpack(byte[] b) throws java.io.IOException {
        for (long c = 0; c < clusters; c++) {
            int s = (b[(int) (c >>> 2)] >>> ((c & 3) * 2)) & 3;
            if (s == 3) {
                throw new java.io.IOException("invalid cluster state at cluster " + c);
            }
            if (s != ABSENT) {
                setOne(c, s);
            }
        }
    }
}
