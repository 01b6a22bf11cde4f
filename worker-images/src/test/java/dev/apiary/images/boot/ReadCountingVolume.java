package dev.apiary.images.boot;

import dev.apiary.lun.ForwardingVolume;
import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** A real volume that counts the reads made of it, to check that files stream in few large reads. */
final class ReadCountingVolume extends ForwardingVolume {
    final AtomicInteger reads = new AtomicInteger();

    ReadCountingVolume(Volume inner) {
        super(inner);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        reads.incrementAndGet();
        super.read(offset, dst);
    }
}
