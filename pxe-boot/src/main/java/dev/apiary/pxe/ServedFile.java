package dev.apiary.pxe;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A file a boot script loads from the HTTP service, such as a worker's kernel or initrd: its size
 * and positional reads. The HTTP service closes it when the transfer ends, however it ends.
 */
public interface ServedFile extends Closeable {
    long size();

    /** Fills {@code dst}'s remaining bytes from {@code offset}; the range lies within {@link #size()}. */
    void read(long offset, ByteBuffer dst) throws IOException;
}
