package dev.apiary.lun.file;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The two sparse-file calls the JDK lacks, through JNA: fallocate(FALLOC_FL_PUNCH_HOLE) to give
 * an unmapped range's space back to the filesystem, and lseek(SEEK_DATA/SEEK_HOLE) to find what is
 * allocated (for {@code rbd du} and GET LBA STATUS). Where they are missing (not Linux, or a
 * filesystem without holes) callers fall back: zeros are written instead of a hole.
 */
final class SparseFiles {
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

    static boolean available() {
        return AVAILABLE;
    }

    /** A descriptor of its own on the file, for hole punching and extent queries. */
    static final class Handle implements AutoCloseable {
        private final int fd;
        private final Path path;

        Handle(Path path) throws IOException {
            this.path = path;
            try {
                this.fd = open(path.toString(), O_RDWR | O_CLOEXEC);
            } catch (LastErrorException e) {
                throw new IOException(path + ": open failed (errno " + e.getErrorCode() + ")", e);
            }
        }

        /** Frees {@code [offset, offset + length)}; it then reads as zeros. False if the filesystem cannot. */
        boolean punch(long offset, long length) throws IOException {
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
        long nextData(long offset) throws IOException {
            return seek(offset, SEEK_DATA);
        }

        /** The next hole at or after {@code offset} (the end of the file counts as one). */
        long nextHole(long offset) throws IOException {
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
        long allocated(long offset, long end) throws IOException {
            long total = 0;
            long pos = offset;
            while (pos < end) {
                long data = nextData(pos);
                if (data < 0 || data >= end) {
                    break;
                }
                long hole = nextHole(data);
                long stop = hole < 0 ? end : Math.min(hole, end);
                total += stop - data;
                pos = stop;
            }
            return total;
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
