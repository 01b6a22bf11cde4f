package dev.apiary.lun.rbd;

import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.VolumeFencedException;
import dev.apiary.lun.VolumeFullException;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;

/**
 * librados and librbd return negative errno values; this turns them into the exceptions the rest of
 * Apiary understands: {@link StoreException} reasons for control operations, {@link
 * VolumeFullException}, {@link VolumeTimeoutException} and {@link VolumeFencedException} for the conditions the target reports in
 * its own way, and a plain {@link IOException} naming the errno for everything else.
 */
final class RbdErrors {
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int EAGAIN = 11;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int ERANGE = 34;
    static final int ENOTEMPTY = 39;
    /** Ceph's EBLOCKLISTED: the OSDs refuse this client because it was fenced. */
    static final int ESHUTDOWN = 108;
    static final int ETIMEDOUT = 110;
    static final int EDQUOT = 122;

    private RbdErrors() {}

    static String name(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case ENOENT -> "ENOENT";
            case EIO -> "EIO";
            case EAGAIN -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case EXDEV -> "EXDEV";
            case EINVAL -> "EINVAL";
            case 27 -> "EFBIG";
            case ENOSPC -> "ENOSPC";
            case EROFS -> "EROFS";
            case ERANGE -> "ERANGE";
            case ENOTEMPTY -> "ENOTEMPTY";
            case 95 -> "EOPNOTSUPP";
            case 107 -> "ENOTCONN";
            case ESHUTDOWN -> "EBLOCKLISTED";
            case ETIMEDOUT -> "ETIMEDOUT";
            case 111 -> "ECONNREFUSED";
            case EDQUOT -> "EDQUOT";
            default -> "errno " + errno;
        };
    }

    /** A short explanation for the errors whose name alone would puzzle an operator. */
    private static String hint(int errno) {
        return switch (errno) {
            case ESHUTDOWN -> " (this client was blocklisted: another gateway fenced it)";
            case EROFS -> " (read-only: another client holds the image's exclusive lock)";
            case ETIMEDOUT -> " (the cluster did not answer within the op timeout)";
            case 13, 1 -> " (the Ceph user lacks the capability; check its caps)";
            default -> "";
        };
    }

    /** The exception for a failed call, {@code rc} being its negative return value. */
    static IOException error(long rc, String what) {
        int errno = (int) -rc;
        String message = what + ": " + name(errno) + hint(errno);
        return switch (errno) {
            case ENOENT -> new StoreException(Reason.NOT_FOUND, message);
            case EEXIST -> new StoreException(Reason.ALREADY_EXISTS, message);
            case EBUSY, ENOTEMPTY -> new StoreException(Reason.IN_USE, message);
            case EINVAL -> new StoreException(Reason.INVALID, message);
            case ETIMEDOUT -> new VolumeTimeoutException(message);
            // Fenced, or the exclusive lock is another client's: this gateway may not write now, another may.
            case ESHUTDOWN, EROFS -> new VolumeFencedException(message);
            case ENOSPC, EDQUOT -> new VolumeFullException(message, null);
            default -> new IOException(message);
        };
    }

    /** Throws {@link #error} if {@code rc} is negative; returns it otherwise. */
    static long check(long rc, String what) throws IOException {
        if (rc < 0) {
            throw error(rc, what);
        }
        return rc;
    }
}
