package dev.apiary.lun.rbd;

import dev.apiary.lun.SparseFiles;
import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.VolumeStore.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code rbd import}: streams a raw image file into a new volume. Holes are not read and blocks of
 * zeros are not written (the new image reads as zeros already), so a golden image takes only the
 * space of its content.
 * Up to {@link #BUFFERS} chunks are in flight at once, each as aio writes of its non-zero runs.
 */
final class RbdImport {
    private static final int CHUNK = 4 << 20; // one RBD object
    private static final int BLOCK = 4096; // zero detection granularity
    private static final int BUFFERS = 4;

    private RbdImport() {}

    static VolumeStore.VolumeInfo run(RbdStore store, String name, Path source, Progress progress) throws IOException {
        long size = Files.size(source);
        if (size <= 0) {
            throw new StoreException(Reason.INVALID, "import " + name + ": " + source + " is empty");
        }
        store.create(name, size);
        try {
            copy(store, name, source, size, progress);
        } catch (IOException | RuntimeException | Error e) {
            try {
                store.delete(name); // no half-imported volume left behind
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return store.info(name).orElseThrow();
    }

    private static void copy(RbdStore store, String name, Path source, long size, Progress progress) throws IOException {
        ByteBuffer[] bufs = new ByteBuffer[BUFFERS];
        @SuppressWarnings("unchecked")
        List<CompletableFuture<Void>>[] inFlight = new List[BUFFERS];
        long[] endOf = new long[BUFFERS];
        for (int i = 0; i < BUFFERS; i++) {
            bufs[i] = ByteBuffer.allocateDirect(CHUNK);
            inFlight[i] = new ArrayList<>();
        }
        try (FileChannel in = FileChannel.open(source); RbdVolume v = (RbdVolume) store.open(name)) {
            // Only the source's allocated ranges are read: its holes read as zeros, as the new image does.
            Iterator<SparseFiles.Extent> extents = SparseFiles.dataExtents(source).iterator();
            SparseFiles.Extent extent = extents.hasNext() ? extents.next() : null;
            long pos = 0;
            for (int slot = 0; extent != null; slot = (slot + 1) % BUFFERS) {
                pos = Math.max(pos, extent.start() - extent.start() % BLOCK);
                finish(v, inFlight[slot], endOf[slot], size, progress); // the buffer is free again
                ByteBuffer b = bufs[slot].clear().limit((int) Math.min(CHUNK, size - pos));
                while (b.hasRemaining() && in.read(b, pos + b.position()) > 0) {
                    // read the chunk fully
                }
                b.flip();
                if (!b.hasRemaining()) {
                    throw new IOException("import " + name + ": " + source + " ended at " + pos + " of " + size + " bytes");
                }
                for (int at = 0; at < b.limit(); ) {
                    int start = at;
                    while (start < b.limit() && isZero(b, start)) {
                        start += BLOCK;
                    }
                    int end = start;
                    while (end < b.limit() && !isZero(b, end)) {
                        end += BLOCK;
                    }
                    end = Math.min(end, b.limit());
                    if (end > start) {
                        inFlight[slot].add(v.writeAsync(pos + start, b.slice(start, end - start), false));
                    }
                    at = Math.max(end, start);
                }
                pos += b.limit();
                endOf[slot] = pos;
                while (extent != null && extent.end() <= pos) {
                    extent = extents.hasNext() ? extents.next() : null;
                }
            }
            for (int i = 0; i < BUFFERS; i++) {
                finish(v, inFlight[i], 0, size, Progress.NONE);
            }
            v.flush();
        }
        progress.update(size, size);
    }

    private static void finish(RbdVolume v, List<CompletableFuture<Void>> ops, long end, long size, Progress progress) throws IOException {
        if (ops.isEmpty() && end == 0) {
            return;
        }
        for (CompletableFuture<Void> op : ops) {
            v.await(op, "importing " + v.name());
        }
        ops.clear();
        if (end > 0 && end < size) {
            progress.update(end, size); // chunks complete in submission order of their slots
        }
    }

    private static boolean isZero(ByteBuffer b, int at) {
        int end = Math.min(at + BLOCK, b.limit());
        int i = at;
        for (; i + 8 <= end; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
