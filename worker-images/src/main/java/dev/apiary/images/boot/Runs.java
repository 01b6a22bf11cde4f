package dev.apiary.images.boot;

import java.util.Arrays;

/**
 * Where a file's blocks lie on disk: a sorted list of runs (logical block, physical block, length),
 * built once when the file is located. Logical blocks without a run are holes; a run with physical
 * block -1 is an unwritten extent. Both read as zeros.
 *
 * <p>Runs must be added in increasing logical order without overlap, which is how extent trees and
 * block maps list them; anything else on disk is refused rather than silently reordered. Adjacent
 * runs that are contiguous on disk too are merged, so a read crosses as few of them as possible.
 */
final class Runs {
    /** Bound on runs (extents) per file: a crafted image cannot make us build a huge table. */
    static final int MAX_RUNS = 65536;

    private final Ext4 fs;
    private final Inode inode;
    private final long limit;
    private long[] logical = new long[8];
    private long[] physical = new long[8];
    private long[] length = new long[8];
    private int count;
    private long nextLogical;

    /** Runs of {@code inode}; blocks at or past {@code limit} (the end of the file) are dropped. */
    Runs(Ext4 fs, Inode inode, long limit) {
        this.fs = fs;
        this.inode = inode;
        this.limit = limit;
    }

    /** Adds {@code len} blocks at {@code logicalStart}, on disk at {@code physicalStart} or -1 (zeros). */
    void add(long logicalStart, long physicalStart, long len) throws BootImageException {
        if (logicalStart < nextLogical) {
            throw fs.fail("inode %d: extents overlap or are out of order at logical block %d",
                    inode.number(), logicalStart);
        }
        nextLogical = logicalStart + len;
        if (logicalStart >= limit) {
            return;
        }
        len = Math.min(len, limit - logicalStart);
        if (count > 0) {
            int last = count - 1;
            boolean adjacent = logical[last] + length[last] == logicalStart;
            boolean bothZeros = physical[last] < 0 && physicalStart < 0;
            boolean contiguous = physical[last] >= 0 && physical[last] + length[last] == physicalStart;
            if (adjacent && (bothZeros || contiguous)) {
                length[last] += len;
                return;
            }
        }
        if (count == MAX_RUNS) {
            throw fs.fail("inode %d: more than %d extents", inode.number(), MAX_RUNS);
        }
        if (count == logical.length) {
            logical = Arrays.copyOf(logical, count * 2);
            physical = Arrays.copyOf(physical, count * 2);
            length = Arrays.copyOf(length, count * 2);
        }
        logical[count] = logicalStart;
        physical[count] = physicalStart;
        length[count] = len;
        count++;
    }

    int count() {
        return count;
    }

    long logical(int i) {
        return logical[i];
    }

    /** The first physical block of run {@code i}, or -1 when it reads as zeros. */
    long physical(int i) {
        return physical[i];
    }

    long length(int i) {
        return length[i];
    }

    /** The first run that ends after {@code block} (it holds {@code block} or starts after it), or count(). */
    int firstEndingAfter(long block) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (logical[mid] + length[mid] <= block) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
