package dev.apiary.images.boot;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One file of the disk, located once (its extents or block pointers resolved into {@link Runs});
 * reads go straight to the disk, one {@link Volume#read} per stretch that is contiguous on disk.
 * Holes and unwritten extents read as zeros. Safe for concurrent reads if the volume is; valid only
 * while the volume is open and unchanged.
 */
public final class BootFile {
    private static final byte[] ZEROS = new byte[64 << 10];

    private final String path;
    private final long size;
    private final Volume disk;
    private final long fsStart;
    private final int blockSize;
    private final Runs runs;

    BootFile(String path, long size, Volume disk, long fsStart, int blockSize, Runs runs) {
        this.path = path;
        this.size = size;
        this.disk = disk;
        this.fsStart = fsStart;
        this.blockSize = blockSize;
        this.runs = runs;
    }

    /** The path the configuration names, made absolute (symbolic links are followed, not shown). */
    public String path() {
        return path;
    }

    /** The file's size in bytes. */
    public long size() {
        return size;
    }

    /**
     * Fills {@code dst}'s remaining bytes from {@code offset} of the file.
     *
     * @throws IllegalArgumentException if the range does not lie within {@link #size()}
     */
    public void read(long offset, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        if (offset < 0 || offset > size - n) {
            throw new IllegalArgumentException(
                    path + ": read of " + n + " bytes at " + offset + " is outside its " + size + " bytes");
        }
        long pos = offset;
        long end = offset + n;
        int i = runs.firstEndingAfter(pos / blockSize);
        while (pos < end) {
            long runStart = i < runs.count() ? runs.logical(i) * blockSize : end;
            if (pos < runStart) {
                long holeEnd = Math.min(end, runStart);
                zero(dst, (int) (holeEnd - pos));
                pos = holeEnd;
                continue;
            }
            long runEnd = (runs.logical(i) + runs.length(i)) * blockSize;
            int len = (int) (Math.min(end, runEnd) - pos);
            if (runs.physical(i) < 0) {
                zero(dst, len);
            } else {
                long at = fsStart + runs.physical(i) * blockSize + (pos - runStart);
                disk.read(at, dst.slice(dst.position(), len));
                dst.position(dst.position() + len);
            }
            pos += len;
            i++;
        }
    }

    /** The whole file; for the small ones (configuration, directories, symbolic links). */
    byte[] readAll() throws IOException {
        byte[] all = new byte[Math.toIntExact(size)];
        read(0, ByteBuffer.wrap(all));
        return all;
    }

    private static void zero(ByteBuffer dst, int len) {
        while (len > 0) {
            int k = Math.min(len, ZEROS.length);
            dst.put(ZEROS, 0, k);
            len -= k;
        }
    }

    @Override
    public String toString() {
        return path + " (" + size + " bytes in " + runs.count() + " runs)";
    }
}
