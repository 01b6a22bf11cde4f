package dev.apiary.lun.rbd;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The librados calls the store needs, bound directly (JNA direct mapping: no proxy, no reflection
 * per call). Signatures follow {@code rados/librados.h} of Ceph 16.2 (Pacific); {@code rados_t} and
 * {@code rados_ioctx_t} are opaque pointers, {@code size_t} is a {@code long} (64-bit Linux only).
 * Every call returns 0 or a negative errno; {@link RbdErrors} turns those into exceptions.
 */
final class LibRados {
    static {
        Native.register(LibRados.class, "rados");
    }

    private LibRados() {}

    static native int rados_create2(PointerByReference cluster, String clusterName, String entityName, long flags);

    static native int rados_conf_read_file(Pointer cluster, String path);

    static native int rados_conf_set(Pointer cluster, String option, String value);

    static native int rados_connect(Pointer cluster);

    static native void rados_shutdown(Pointer cluster);

    static native int rados_ioctx_create(Pointer cluster, String pool, PointerByReference ioctx);

    static native void rados_ioctx_destroy(Pointer ioctx);

    static native void rados_ioctx_set_namespace(Pointer ioctx, String namespace);

    static native long rados_get_instance_id(Pointer cluster);

    static native int rados_wait_for_latest_osdmap(Pointer cluster);

    /** The session's addresses, "suitable for blocklisting"; the string is malloc'ed. */
    static native int rados_getaddrs(Pointer cluster, PointerByReference addrs);

    static native int rados_blocklist_add(Pointer cluster, String clientAddress, int expireSeconds);

    /** {@code cmd} is a {@code const char **} (a JNA StringArray: direct mapping takes no String[]). */
    static native int rados_mon_command(Pointer cluster, Pointer cmd, long cmdlen, Pointer inbuf, long inbuflen,
            PointerByReference outbuf, LongByReference outbuflen, PointerByReference outs, LongByReference outslen);

    static native void rados_buffer_free(Pointer buf);
}
