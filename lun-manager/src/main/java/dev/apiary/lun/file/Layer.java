package dev.apiary.lun.file;

import dev.apiary.lun.SparseFiles;
import dev.apiary.lun.VolumeFullException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One layer of a volume: a sparse data file the size of the volume, in which a cluster's bytes
 * sit at the cluster's own offset. A {@link RawLayer} is the whole picture; an {@link OverlayLayer}
 * holds only the clusters written since it was made and reads the rest from its parent. Sealed
 * layers (snapshots) are immutable and shared by every volume built on them, and read through the
 * store's {@link ClusterCache}.
 */
abstract sealed class Layer implements AutoCloseable permits RawLayer, OverlayLayer {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    final String id;
    final long key;
    final Path dataFile;
    final int clusterSize;
    final FileChannel data;
    final ClusterCache cache;
    final AtomicLong diskReads;
    volatile long size;
    volatile boolean sealed;
    private SparseFiles.Handle sparse;

    Layer(String id, long key, Path dataFile, int clusterSize, long size, boolean sealed, ClusterCache cache,
            AtomicLong diskReads) throws IOException {
        this.id = id;
        this.key = key;
        this.dataFile = dataFile;
        this.clusterSize = clusterSize;
        this.size = size;
        this.sealed = sealed;
        this.cache = cache;
        this.diskReads = diskReads;
        this.data = FileChannel.open(dataFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long actual = data.size();
        if (actual < size) {
            data.close();
            throw new IOException("data file " + dataFile.getFileName() + " is shorter than the layer ("
                    + actual + " < " + size + " bytes)");
        }
    }

    /** Creates a sparse data file of {@code size} bytes. */
    static void createDataFile(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset}, resolving through parents; past the end reads zeros. */
    abstract void read(long offset, ByteBuffer dst) throws IOException;

    abstract void write(long offset, ByteBuffer src) throws IOException;

    abstract void unmap(long offset, long length) throws IOException;

    /** Makes every completed write durable (data, then whatever says where it is). */
    abstract void flush() throws IOException;

    abstract void grow(long newSize) throws IOException;

    /** Allocated bytes of this layer's own data file. */
    long allocated() throws IOException {
        SparseFiles.Handle h = sparse();
        return h == null ? data.size() : h.allocated(0, size);
    }

    /** Reads this layer's own file, through the shared cache when sealed. Past the end: zeros. */
    final void readOwn(long offset, ByteBuffer dst) throws IOException {
        int len = dst.remaining();
        long end = Math.min(offset + len, size);
        if (offset >= end) {
            zero(dst, len);
            return;
        }
        int inside = (int) (end - offset);
        if (sealed && cache != null) {
            readCached(offset, dst, inside);
        } else {
            readFile(offset, dst, inside);
        }
        zero(dst, len - inside);
    }

    private void readCached(long offset, ByteBuffer dst, int length) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long cluster = pos / clusterSize;
            int in = (int) (pos % clusterSize);
            int n = (int) Math.min(clusterSize - in, end - pos);
            if (!cache.read(key, cluster, in, dst, n)) {
                byte[] whole = new byte[clusterSize];
                ByteBuffer wb = ByteBuffer.wrap(whole);
                long cstart = cluster * clusterSize;
                wb.limit((int) Math.min(clusterSize, size - cstart));
                readFile(cstart, wb, wb.remaining());
                cache.put(key, cluster, whole);
                dst.put(whole, in, n);
            }
            pos += n;
        }
    }

    private void readFile(long offset, ByteBuffer dst, int length) throws IOException {
        ByteBuffer view = dst.slice(dst.position(), length);
        long pos = offset;
        while (view.hasRemaining()) {
            int n = data.read(view, pos);
            if (n < 0) {
                throw new IOException("data file " + dataFile.getFileName() + " ends early at " + pos);
            }
            pos += n;
        }
        diskReads.addAndGet(length);
        dst.position(dst.position() + length);
    }

    static void zero(ByteBuffer dst, int length) {
        while (length > 0) {
            int n = Math.min(length, ZEROS.capacity());
            dst.put(ZEROS.duplicate().limit(n));
            length -= n;
        }
    }

    final void writeOwn(long offset, ByteBuffer src) throws IOException {
        if (sealed) {
            throw new IOException("layer " + id + " is sealed");
        }
        long pos = offset;
        try {
            while (src.hasRemaining()) {
                pos += data.write(src, pos);
            }
        } catch (IOException e) {
            if (VolumeFullException.isNoSpace(e)) {
                throw new VolumeFullException(dataFile.getFileName() + ": no space left for a write at " + pos, e);
            }
            throw e;
        }
    }

    /** Frees a byte range of the own file, or writes zeros where the filesystem cannot punch holes. */
    final void punchOwn(long offset, long length) throws IOException {
        SparseFiles.Handle h = sparse();
        if (h != null && h.punch(offset, length)) {
            return;
        }
        long pos = offset;
        while (pos < offset + length) {
            int n = (int) Math.min(ZEROS.capacity(), offset + length - pos);
            writeOwn(pos, ZEROS.duplicate().limit(n));
            pos += n;
        }
    }

    private synchronized SparseFiles.Handle sparse() throws IOException {
        if (sparse == null && SparseFiles.available()) {
            sparse = new SparseFiles.Handle(dataFile, true);
        }
        return sparse;
    }

    final void extendOwn(long newSize) throws IOException {
        if (data.size() < newSize) {
            try (RandomAccessFile f = new RandomAccessFile(dataFile.toFile(), "rw")) {
                f.setLength(newSize);
            }
        }
        size = newSize;
    }

    @Override
    public void close() throws IOException {
        if (sparse != null) {
            sparse.close();
        }
        data.close();
    }
}
