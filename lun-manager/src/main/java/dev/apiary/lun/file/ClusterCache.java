package dev.apiary.lun.file;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One cache for the clusters of sealed (immutable) layers, shared by the whole store, so fifty
 * clones of one golden snapshot booting together read each of its clusters from disk once.
 * Sealed layers never change, so nothing is ever invalidated; eviction is first-in first-out,
 * which suits a boot storm (every clone reads the same clusters in roughly the same order).
 */
final class ClusterCache {
    private record Key(long layer, long cluster) {}

    private final ConcurrentHashMap<Key, byte[]> entries = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Key> order = new ConcurrentLinkedQueue<>();
    private final long capacity;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();

    /** @param capacity clusters to hold; 0 disables the cache */
    ClusterCache(long capacity) {
        this.capacity = capacity;
    }

    /** Copies the cached cluster into {@code dst} at {@code offsetInCluster}; false on a miss. */
    boolean read(long layer, long cluster, int offsetInCluster, ByteBuffer dst, int length) {
        byte[] c = capacity == 0 ? null : entries.get(new Key(layer, cluster));
        if (c == null) {
            misses.incrementAndGet();
            return false;
        }
        hits.incrementAndGet();
        dst.put(c, offsetInCluster, length);
        return true;
    }

    void put(long layer, long cluster, byte[] data) {
        if (capacity == 0) {
            return;
        }
        Key k = new Key(layer, cluster);
        if (entries.putIfAbsent(k, data) == null) {
            order.add(k);
            while (entries.size() > capacity) {
                Key old = order.poll();
                if (old == null) {
                    break;
                }
                entries.remove(old);
            }
        }
    }

    long hits() {
        return hits.get();
    }

    long misses() {
        return misses.get();
    }
}
