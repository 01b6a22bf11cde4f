package dev.apiary.lun.file;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An open store volume: I/O goes to its writable top layer. Snapshot and flatten replace that
 * layer while the volume stays exported; they hold {@code swap} exclusively for the moment of
 * the change, and every I/O holds it shared, so no I/O ever sees half a swap.
 */
final class StoreVolume implements Volume {
    final String name;
    private final FileStore store;
    final ReentrantReadWriteLock swap = new ReentrantReadWriteLock();
    volatile Layer top;
    int handles; // guarded by the store

    StoreVolume(String name, FileStore store, Layer top) {
        this.name = name;
        this.store = store;
        this.top = top;
    }

    @Override
    public String name() {
        return store.directory() + "#" + name;
    }

    @Override
    public long size() {
        return top.size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        swap.readLock().lock();
        try {
            top.read(offset, dst);
        } finally {
            swap.readLock().unlock();
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        swap.readLock().lock();
        try {
            top.write(offset, src);
            if (fua) {
                // FUA (SBC-3 §5.40): this write is durable before it is acknowledged, map entry included.
                top.flush();
            }
        } finally {
            swap.readLock().unlock();
        }
    }

    @Override
    public void flush() throws IOException {
        swap.readLock().lock();
        try {
            top.flush();
        } finally {
            swap.readLock().unlock();
        }
    }

    @Override
    public void unmap(long offset, long length) throws IOException {
        swap.readLock().lock();
        try {
            top.unmap(offset, length);
        } finally {
            swap.readLock().unlock();
        }
    }

    @Override
    public void resize(long newSize) throws IOException {
        store.resize(name, newSize);
    }

    @Override
    public void close() throws IOException {
        store.release(this);
    }
}
