package dev.apiary.lun;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * A volume that counts what passes through it (operations and bytes, read and written), for the
 * per-LUN metrics. Everything else goes straight to the volume it wraps.
 */
public final class CountingVolume extends ForwardingVolume {
    private final LongAdder reads = new LongAdder(), readBytes = new LongAdder();
    private final LongAdder writes = new LongAdder(), writtenBytes = new LongAdder();

    public CountingVolume(Volume volume) {
        super(volume);
    }

    public long reads() {
        return reads.sum();
    }

    public long readBytes() {
        return readBytes.sum();
    }

    public long writes() {
        return writes.sum();
    }

    public long writtenBytes() {
        return writtenBytes.sum();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        volume.read(offset, dst);
        reads.increment();
        readBytes.add(n);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int n = src.remaining();
        volume.write(offset, src, fua);
        writes.increment();
        writtenBytes.add(n);
    }

    @Override
    public CompletionStage<Void> readAsync(long offset, ByteBuffer dst) {
        int n = dst.remaining();
        return volume.readAsync(offset, dst).thenRun(() -> {
            reads.increment();
            readBytes.add(n);
        });
    }

    @Override
    public CompletionStage<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        int n = src.remaining();
        return volume.writeAsync(offset, src, fua).thenRun(() -> {
            writes.increment();
            writtenBytes.add(n);
        });
    }
}
