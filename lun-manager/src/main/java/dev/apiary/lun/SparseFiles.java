package dev.apiary.lun;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The two sparse-file calls the JDK lacks, through JNA: fallocate(FALLOC_FL_PUNCH_HOLE) to give
 * an unmapped range's space back to the filesystem, and lseek(SEEK_DATA/SEEK_HOLE) to find what is
 * allocated (for {@code rbd du}, GET LBA STATUS, and imports that read only what a file holds).
 * Where they are missing (not Linux, or a filesystem without holes) callers fall back: zeros are
 * written instead of a hole, and a whole file is read.
 */
public final class SparseFiles {
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 02000000;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;
    private static final boolean AVAILABLE = load();

    private SparseFiles() {}

    private static boolean load() {
        if (!Platform.isLinux()) {
            return false;
        }
        try {
            Native.register(SparseFiles.class, Platform.C_LIBRARY_NAME);
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }

    private static native int open(String path, int flags) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private static native int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

    private static native long lseek(int fd, long offset, int whence) throws LastErrorException;

    public static boolean available() {
        return AVAILABLE;
    }

    /** A range of a file's bytes, {@code [start, end)}. */
    public record Extent(long start, long end) {}

    /**
     * The allocated ranges of {@code file}, in order: all an import needs to read, since a hole
     * reads as zeros. The whole file where holes cannot be asked for. (A range may still hold
     * zeros: preallocated or written ones.)
     */
    public static List<Extent> dataExtents(Path file) throws IOException {
        long size = Files.size(file);
        if (!AVAILABLE) {
            return size == 0 ? List.of() : List.of(new Extent(0, size));
        }
        try (Handle h = new Handle(file, false)) {
            return h.extents(0, size);
        }
    }

    /** A descriptor of its own on the file, for hole punching and extent queries. */
    public static final class Handle implements AutoCloseable {
        private final int fd;
        private final Path path;

        /** Opens {@code path} for writing (hole punching) or, with {@code writable} false, only for queries. */
        public Handle(Path path, boolean writable) throws IOException {
            this.path = path;
            try {
                this.fd = open(path.toString(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
            } catch (LastErrorException e) {
                throw new IOException(path + ": open failed (errno " + e.getErrorCode() + ")", e);
            }
        }

        /** Frees {@code [offset, offset + length)}; it then reads as zeros. False if the filesystem cannot. */
        public boolean punch(long offset, long length) throws IOException {
            try {
                fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
                return true;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == 95 /* EOPNOTSUPP */) {
                    return false;
                }
                throw new IOException(path + ": punching a hole failed (errno " + e.getErrorCode() + ")", e);
            }
        }

        /** The next allocated byte at or after {@code offset}, or -1 if there is none. */
        public long nextData(long offset) throws IOException {
            return seek(offset, SEEK_DATA);
        }

        /** The next hole at or after {@code offset} (the end of the file counts as one). */
        public long nextHole(long offset) throws IOException {
            return seek(offset, SEEK_HOLE);
        }

        private long seek(long offset, int whence) throws IOException {
            try {
                return lseek(fd, offset, whence);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == ENXIO) {
                    return -1;
                }
                throw new IOException(path + ": lseek failed (errno " + e.getErrorCode() + ")", e);
            }
        }

        /** Allocated bytes in {@code [offset, end)}. */
        public long allocated(long offset, long end) throws IOException {
            return extents(offset, end).stream().mapToLong(e -> e.end() - e.start()).sum();
        }

        /** The allocated ranges within {@code [offset, end)}, in order. */
        public List<Extent> extents(long offset, long end) throws IOException {
            List<Extent> extents = new ArrayList<>();
            long pos = offset;
            while (pos < end) {
                long data = nextData(pos);
                if (data < 0 || data >= end) {
                    break;
                }
                long hole = nextHole(data);
                long stop = hole < 0 ? end : Math.min(hole, end);
                extents.add(new Extent(data, stop));
                pos = stop;
            }
            return extents;
        }

        @Override
        public void close() {
            try {
                SparseFiles.close(fd);
            } catch (LastErrorException ignored) {
                // nothing useful to do: the descriptor is gone either way
            }
        }
    }
}
