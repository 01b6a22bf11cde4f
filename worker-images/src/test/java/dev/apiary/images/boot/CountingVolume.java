package dev.apiary.images.boot;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** A real volume that counts the reads made of it, to check that files stream in few large reads. */
final class CountingVolume implements Volume {
    final AtomicInteger reads = new AtomicInteger();
    private final Volume inner;

    CountingVolume(Volume inner) {
        this.inner = inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        reads.incrementAndGet();
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        inner.write(offset, src, fua);
    }

    @Override
    public void flush() throws IOException {
        inner.flush();
    }

    @Override
    public void unmap(long offset, long length) throws IOException {
        inner.unmap(offset, length);
    }

    @Override
    public void resize(long newSize) throws IOException {
        inner.resize(newSize);
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
