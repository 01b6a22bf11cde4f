package dev.apiary.lun.file;

import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A copy-on-write layer: clusters written since it was made live in its own sparse data file at
 * their own offsets; a {@link ClusterMap} says, per cluster, whether to read here, read zeros
 * (unmapped here), or read the parent. A write that covers part of a cluster the layer does not
 * hold first copies the rest of that cluster up from the parent.
 *
 * <p>Concurrency: writes and unmaps lock the cluster groups they touch (so two writes never copy
 * up the same cluster at once); reads take no lock. A flush takes the dirty map marks, makes the
 * data file durable, and only then journals the marks: a map entry is never durable before its
 * data. Checkpoints and growth shut writes out briefly with {@code barrier}.
 */
final class OverlayLayer extends Layer {
    private static final int GROUP_SHIFT = 4; // 16 clusters per lock group
    private static final int STRIPES = 256;

    final Layer parent;
    final ClusterMap map;
    private final MapJournal journal;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final ReentrantReadWriteLock barrier = new ReentrantReadWriteLock();
    private final ReentrantLock flushLock = new ReentrantLock();

    OverlayLayer(String id, long key, Path dataFile, int clusterSize, long size, boolean sealed, ClusterCache cache,
            AtomicLong diskReads, Layer parent, ClusterMap map, MapJournal journal) throws IOException {
        super(id, key, dataFile, clusterSize, size, sealed, cache, diskReads);
        this.parent = parent;
        this.map = map;
        this.journal = journal;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    @Override
    void read(long offset, ByteBuffer dst) throws IOException {
        long end = offset + dst.remaining();
        long pos = offset;
        while (pos < end) {
            int state = map.get(pos / clusterSize);
            long runEnd = Math.min(end, (pos / clusterSize + 1) * clusterSize);
            while (runEnd < end && map.get(runEnd / clusterSize) == state) {
                runEnd = Math.min(end, runEnd + clusterSize);
            }
            int n = (int) (runEnd - pos);
            ByteBuffer part = dst.slice(dst.position(), n);
            switch (state) {
                case ClusterMap.PRESENT -> readOwn(pos, part);
                case ClusterMap.ZERO -> zero(part, n);
                default -> parent.read(pos, part);
            }
            dst.position(dst.position() + n);
            pos = runEnd;
        }
    }

    @Override
    void write(long offset, ByteBuffer src) throws IOException {
        long first = offset / clusterSize;
        long last = (offset + src.remaining() - 1) / clusterSize;
        barrier.readLock().lock();
        try {
            lockGroups(first, last);
            try {
                writeLocked(offset, src, first, last);
            } finally {
                unlockGroups(first, last);
            }
        } finally {
            barrier.readLock().unlock();
        }
    }

    private void writeLocked(long offset, ByteBuffer src, long first, long last) throws IOException {
        long end = offset + src.remaining();
        if (offset % clusterSize != 0) {
            copyUp(first);
        }
        if (end % clusterSize != 0 && (last != first || offset % clusterSize == 0)) {
            copyUp(last);
        }
        writeOwn(offset, src);
        map.set(first, last - first + 1, ClusterMap.PRESENT);
    }

    /** Brings a cluster this layer does not hold into its file, so a partial write can land on it. */
    private void copyUp(long cluster) throws IOException {
        int state = map.get(cluster);
        if (state == ClusterMap.PRESENT) {
            return;
        }
        if (state == ClusterMap.ZERO) {
            // The range should be a hole, but a write lost in a crash (data landed, map entry did not)
            // may have left bytes there: clear it, so the rest of the cluster reads zeros.
            punchOwn(cluster * clusterSize, Math.min(clusterSize, size - cluster * clusterSize));
            return;
        }
        ByteBuffer whole = ByteBuffer.allocate(clusterSize);
        long start = cluster * clusterSize;
        whole.limit((int) Math.min(clusterSize, size - start));
        parent.read(start, whole);
        whole.flip();
        writeOwn(start, whole);
    }

    /** Whole clusters become ZERO and are punched; partial edges are written with zeros. */
    @Override
    void unmap(long offset, long length) throws IOException {
        long end = offset + length;
        long first = offset / clusterSize;
        long last = (end - 1) / clusterSize;
        barrier.readLock().lock();
        try {
            lockGroups(first, last);
            try {
                long wholeStart = (offset + clusterSize - 1) / clusterSize;
                long wholeEnd = end / clusterSize; // exclusive
                if (wholeStart < wholeEnd) {
                    // Hole first, state second: a flush can never make ZERO durable over bytes still there.
                    punchOwn(wholeStart * clusterSize, (wholeEnd - wholeStart) * clusterSize);
                    map.set(wholeStart, wholeEnd - wholeStart, ClusterMap.ZERO);
                }
                long headEnd = Math.min(end, wholeStart * clusterSize);
                if (offset < headEnd) {
                    writeZeros(offset, headEnd - offset);
                }
                long tailStart = Math.max(offset, wholeEnd * clusterSize);
                if (tailStart < end && tailStart >= headEnd) {
                    writeZeros(tailStart, end - tailStart);
                }
            } finally {
                unlockGroups(first, last);
            }
        } finally {
            barrier.readLock().unlock();
        }
    }

    private void writeZeros(long offset, long length) throws IOException {
        ByteBuffer z = ByteBuffer.allocate((int) length);
        writeLocked(offset, z, offset / clusterSize, (offset + length - 1) / clusterSize);
    }

    /** Lock order everywhere: {@code flushLock}, then {@code barrier}. Writers take only the barrier. */
    @Override
    void flush() throws IOException {
        flushLock.lock();
        try {
            flushLocked();
            if (journal.wantsCompaction()) {
                barrier.writeLock().lock();
                try {
                    flushLocked();
                    journal.checkpoint(map);
                } finally {
                    barrier.writeLock().unlock();
                }
            }
        } finally {
            flushLock.unlock();
        }
    }

    private void flushLocked() throws IOException {
        var runs = map.takeDirty(); // marks first: each points at a write that completed before now
        try {
            data.force(false); // then the data they point at
            journal.append(runs); // only then the map entries
        } catch (IOException e) {
            map.markDirty(runs); // not durable: the next flush must try them again
            throw e;
        }
    }

    @Override
    void grow(long newSize) throws IOException {
        flushLock.lock();
        try {
            barrier.writeLock().lock();
            try {
                flushLocked();
                extendOwn(newSize);
                map.grow((newSize + clusterSize - 1) / clusterSize);
                journal.checkpoint(map);
            } finally {
                barrier.writeLock().unlock();
            }
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * Copies every cluster still read from the parent into this layer (zeros stay holes), online:
     * each cluster is copied under its group lock, so a concurrent write is never overwritten.
     */
    void copyAllFromParent(VolumeStore.Progress progress) throws IOException {
        long clusters = map.clusters();
        ByteBuffer buf = ByteBuffer.allocate(clusterSize);
        for (long c = 0; c < clusters; c++) {
            if (map.get(c) == ClusterMap.ZERO) {
                // Once raw, the file is read as it is: a write lost in a crash must not show through.
                barrier.readLock().lock();
                lockGroups(c, c);
                try {
                    if (map.get(c) == ClusterMap.ZERO) {
                        punchOwn(c * clusterSize, Math.min(clusterSize, size - c * clusterSize));
                    }
                } finally {
                    unlockGroups(c, c);
                    barrier.readLock().unlock();
                }
            } else if (map.get(c) == ClusterMap.ABSENT) {
                barrier.readLock().lock();
                lockGroups(c, c);
                try {
                    if (map.get(c) == ClusterMap.ABSENT) {
                        long start = c * clusterSize;
                        buf.clear().limit((int) Math.min(clusterSize, size - start));
                        parent.read(start, buf);
                        buf.flip();
                        if (isZero(buf)) {
                            punchOwn(start, buf.limit());
                            map.set(c, 1, ClusterMap.ZERO);
                        } else {
                            writeOwn(start, buf);
                            map.set(c, 1, ClusterMap.PRESENT);
                        }
                    }
                } finally {
                    unlockGroups(c, c);
                    barrier.readLock().unlock();
                }
            }
            if ((c & 1023) == 0 || c == clusters - 1) {
                progress.update(Math.min((c + 1) * clusterSize, size), size);
            }
        }
        flush();
    }

    private static boolean isZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Allocated bytes: PRESENT clusters, which is what this layer adds over its parent. */
    @Override
    long allocated() {
        long n = 0;
        for (long c = 0; c < map.clusters(); c++) {
            if (map.get(c) == ClusterMap.PRESENT) {
                n++;
            }
        }
        return n * clusterSize;
    }

    private void lockGroups(long first, long last) {
        long g0 = first >>> GROUP_SHIFT;
        long g1 = last >>> GROUP_SHIFT;
        if (g0 == g1) {
            stripes[(int) (g0 % STRIPES)].lock(); // the common case: a write inside one group
            return;
        }
        if (g1 - g0 + 1 >= STRIPES) {
            for (ReentrantLock l : stripes) {
                l.lock();
            }
            return;
        }
        // Ascending stripe order, each stripe once, so two writers never wait on each other in a cycle.
        boolean[] take = new boolean[STRIPES];
        for (long g = g0; g <= g1; g++) {
            take[(int) (g % STRIPES)] = true;
        }
        for (int i = 0; i < STRIPES; i++) {
            if (take[i]) {
                stripes[i].lock();
            }
        }
    }

    private void unlockGroups(long first, long last) {
        long g0 = first >>> GROUP_SHIFT;
        long g1 = last >>> GROUP_SHIFT;
        if (g0 == g1) {
            stripes[(int) (g0 % STRIPES)].unlock();
            return;
        }
        if (g1 - g0 + 1 >= STRIPES) {
            for (ReentrantLock l : stripes) {
                l.unlock();
            }
            return;
        }
        boolean[] held = new boolean[STRIPES];
        for (long g = g0; g <= g1; g++) {
            held[(int) (g % STRIPES)] = true;
        }
        for (int i = 0; i < STRIPES; i++) {
            if (held[i]) {
                stripes[i].unlock();
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (!sealed) {
                flush();
            }
            journal.close();
        } finally {
            super.close();
        }
    }
}
