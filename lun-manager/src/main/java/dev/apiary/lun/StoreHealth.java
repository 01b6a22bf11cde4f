package dev.apiary.lun;

import java.util.List;

/**
 * What a store says of itself, for the API and metrics: whether it can take I/O, what is wrong if
 * not, and its space. For the file store, the filesystem that holds it; for RBD, the cluster's
 * health (as {@code ceph health}) and the pool's space (as {@code ceph df}).
 *
 * @param where the store's location: a directory, or POOL[/NAMESPACE]
 * @param problems one line each, e.g. "POOL_FULL: 1 pool(s) full"; empty when OK
 * @param usedBytes bytes stored ({@code -1} when unknown, e.g. the cluster did not answer)
 * @param availableBytes bytes that can still be written ({@code -1} when unknown)
 */
public record StoreHealth(String type, String where, Status status, List<String> problems, long usedBytes,
        long availableBytes) {
    /** Ceph's three levels: OK, WARN (degraded, nearly full), ERROR (full, unreachable: I/O fails). */
    public enum Status { OK, WARN, ERROR }

    public StoreHealth {
        problems = List.copyOf(problems);
    }

    /** Used/total ratios at which a filesystem or pool is nearly full and full (Ceph's defaults). */
    public static final double NEARFULL = 0.85;
    public static final double FULL = 0.95;

    /** The status that {@code used} of {@code used + available} bytes deserves, with its problem line. */
    public static StoreHealth ofSpace(String type, String where, long used, long available) {
        double ratio = used + available <= 0 ? 0 : (double) used / (used + available);
        String pct = Math.round(ratio * 100) + "% used";
        if (ratio >= FULL) {
            return new StoreHealth(type, where, Status.ERROR, List.of("FULL: " + pct), used, available);
        }
        if (ratio >= NEARFULL) {
            return new StoreHealth(type, where, Status.WARN, List.of("NEARFULL: " + pct), used, available);
        }
        return new StoreHealth(type, where, Status.OK, List.of(), used, available);
    }
}
