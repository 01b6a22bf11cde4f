package dev.apiary.lun.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A layer with no parent: a plain sparse raw image. Holes read as zeros and unmapping punches
 * them, so it needs no map; a flush is an fdatasync. Base images and flattened clones are raw.
 */
final class RawLayer extends Layer {
    RawLayer(String id, long key, Path dataFile, int clusterSize, long size, boolean sealed, ClusterCache cache,
            AtomicLong diskReads) throws IOException {
        super(id, key, dataFile, clusterSize, size, sealed, cache, diskReads);
    }

    @Override
    void read(long offset, ByteBuffer dst) throws IOException {
        readOwn(offset, dst);
    }

    @Override
    void write(long offset, ByteBuffer src) throws IOException {
        writeOwn(offset, src);
    }

    @Override
    void unmap(long offset, long length) throws IOException {
        punchOwn(offset, length);
    }

    @Override
    void flush() throws IOException {
        data.force(false);
    }

    @Override
    void grow(long newSize) throws IOException {
        extendOwn(newSize);
    }
}
