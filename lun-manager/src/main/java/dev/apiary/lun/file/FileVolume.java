package dev.apiary.lun.file;

import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeFullException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * A volume in one plain file, created sparse. Positional reads and writes on {@link FileChannel} are
 * thread-safe, so concurrent commands need no lock. FUA writes go through a second channel opened
 * with O_DSYNC, which makes just that write durable instead of forcing the whole file.
 */
public final class FileVolume implements Volume {
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel channel;
    private final FileChannel dsyncChannel;
    private final boolean readOnly;
    private volatile long size;

    private FileVolume(Path path, boolean readOnly) throws IOException {
        this.path = path;
        this.readOnly = readOnly;
        if (readOnly) {
            this.channel = FileChannel.open(path, StandardOpenOption.READ);
            this.dsyncChannel = null;
        } else {
            this.channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            this.dsyncChannel = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.DSYNC);
        }
        this.size = channel.size();
    }

    /** Opens an existing file; its current length is the volume's size. */
    public static FileVolume open(Path path, boolean readOnly) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException(path + ": not a regular file");
        }
        return new FileVolume(path, readOnly);
    }

    /** Opens {@code path}, creating it sparse at {@code size} bytes if it does not exist. */
    public static FileVolume openOrCreate(Path path, long size) throws IOException {
        if (!Files.exists(path)) {
            if (size <= 0) {
                throw new IOException(path + ": does not exist and no size was given to create it");
            }
            try (FileChannel c = FileChannel.open(
                    path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
                c.truncate(0);
                // Writing nothing past the end leaves a hole: the file is sparse.
                c.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return new FileVolume(path, false);
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                // The file may be shorter than the volume only if someone truncated it under us.
                throw new EOFException(path + ": file ends at " + pos + ", volume size is " + size);
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        writeFully(fua ? dsyncChannel : channel, offset, src);
    }

    private void writeFully(FileChannel target, long offset, ByteBuffer src) throws IOException {
        long pos = offset;
        try {
            while (src.hasRemaining()) {
                pos += target.write(src, pos);
            }
        } catch (IOException e) {
            if (VolumeFullException.isNoSpace(e)) {
                throw new VolumeFullException(path + ": no space left for a write at " + pos, e);
            }
            throw e;
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(false);
        }
    }

    /**
     * Writes zeros over the range. The JDK has no fallocate(PUNCH_HOLE); the copy-on-write store
     * frees whole clusters instead, so this plain-file volume keeps the read-as-zero contract only.
     */
    @Override
    public void unmap(long offset, long length) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int n = (int) Math.min(ZERO_CHUNK, end - pos);
            writeFully(channel, pos, ZEROS.duplicate().limit(n));
            pos += n;
        }
    }

    @Override
    public void resize(long newSize) throws IOException {
        if (newSize < size) {
            throw new IOException(path + ": shrinking from " + size + " to " + newSize + " bytes is refused");
        }
        if (newSize > size) {
            channel.write(ByteBuffer.allocate(1), newSize - 1);
            size = newSize;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            channel.close();
            if (dsyncChannel != null) {
                dsyncChannel.close();
            }
        }
    }
}
