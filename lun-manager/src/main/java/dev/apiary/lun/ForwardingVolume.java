package dev.apiary.lun;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * A volume that passes every verb to the one it wraps: the base of the decorators that add one
 * thing (counting, ownership) and override only the verbs that thing touches.
 */
public abstract class ForwardingVolume implements Volume {
    protected final Volume volume;

    protected ForwardingVolume(Volume volume) {
        this.volume = volume;
    }

    /** The volume this one wraps. */
    public Volume volume() {
        return volume;
    }

    @Override
    public String name() {
        return volume.name();
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        volume.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        volume.write(offset, src, fua);
    }

    @Override
    public CompletionStage<Void> readAsync(long offset, ByteBuffer dst) {
        return volume.readAsync(offset, dst);
    }

    @Override
    public CompletionStage<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        return volume.writeAsync(offset, src, fua);
    }

    @Override
    public boolean submitsWithoutWaiting() {
        return volume.submitsWithoutWaiting();
    }

    @Override
    public void flush() throws IOException {
        volume.flush();
    }

    @Override
    public void unmap(long offset, long length) throws IOException {
        volume.unmap(offset, length);
    }

    @Override
    public boolean isDeallocated(long offset, long length) throws IOException {
        return volume.isDeallocated(offset, length);
    }

    @Override
    public boolean readOnly() {
        return volume.readOnly();
    }

    @Override
    public void resize(long newSize) throws IOException {
        volume.resize(newSize);
    }

    @Override
    public void close() throws IOException {
        volume.close();
    }
}
