package dev.apiary.lun.rbd;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The librbd calls the store needs, bound directly (see {@link LibRados}). Signatures and struct
 * layouts follow {@code rbd/librbd.h} of Ceph 16.2; the structs are read by offset (see the
 * constants) rather than through JNA {@code Structure}, because they only ever come back in arrays
 * that librbd fills and frees.
 */
final class LibRbd {
    static {
        Native.register(LibRbd.class, "rbd");
    }

    private LibRbd() {}

    // Image features (rbd/features.h): layering 1, exclusive-lock 4, object-map 8, fast-diff 16,
    // deep-flatten 32. No journaling (it doubles writes) and no striping v2.
    static final long FEATURES = 1 | 4 | 8 | 16 | 32;
    /** 4 MiB objects: librbd's default, and the unit of copy-up, object map and flatten. */
    static final int ORDER = 22;

    static final int LOCK_MODE_EXCLUSIVE = 0;
    static final int IMAGE_OPTION_FEATURES = 1;
    static final int IMAGE_OPTION_ORDER = 2;
    static final int IMAGE_OPTION_CLONE_FORMAT = 12;
    static final int SNAP_REMOVE_UNPROTECT = 1;

    /** rbd_snap_info_t {uint64 id; uint64 size; const char *name}. */
    static final int SNAP_INFO_SIZE = 24;
    /** rbd_linked_image_spec_t {int64 pool_id; char *pool_name, *pool_namespace, *image_id, *image_name; bool trash}. */
    static final int LINKED_SPEC_SIZE = 48;
    /** rbd_snap_spec_t {uint64 id; enum namespace_type; char *name}. */
    static final int SNAP_SPEC_SIZE = 24;
    /** rbd_image_spec_t {char *id; char *name}. */
    static final int IMAGE_SPEC_SIZE = 16;
    /** rbd_image_watcher_t {char *addr; int64 id; uint64 cookie}. */
    static final int WATCHER_SIZE = 24;

    /** rbd_callback_t: librbd calls it from its own thread when an aio completes. */
    interface CompletionCallback extends Callback {
        void invoke(Pointer completion, Pointer arg);
    }

    /** librbd_progress_fn_t; returning non-zero cancels the operation. */
    interface ProgressCallback extends Callback {
        int invoke(long offset, long total, Pointer arg);
    }

    /** The diff_iterate callback: one extent, exists = 1 for data, 0 for a hole. */
    interface DiffCallback extends Callback {
        int invoke(long offset, long length, int exists, Pointer arg);
    }

    // ---- images ----

    static native int rbd_create2(Pointer io, String name, long size, long features, IntByReference order);

    static native int rbd_clone3(Pointer parentIo, String parentName, String parentSnap, Pointer childIo,
            String childName, Pointer opts);

    static native int rbd_remove(Pointer io, String name);

    static native int rbd_list2(Pointer io, Pointer specs, LongByReference max);

    static native void rbd_image_spec_list_cleanup(Pointer specs, long count);

    static native int rbd_open(Pointer io, String name, PointerByReference image, String snap);

    static native int rbd_open_read_only(Pointer io, String name, PointerByReference image, String snap);

    static native int rbd_close(Pointer image);

    static native int rbd_get_size(Pointer image, LongByReference size);

    static native int rbd_resize(Pointer image, long size);

    static native int rbd_get_parent(Pointer image, Pointer parentImage, Pointer parentSnap);

    static native void rbd_linked_image_spec_cleanup(Pointer spec);

    static native void rbd_snap_spec_cleanup(Pointer spec);

    static native int rbd_flatten_with_progress(Pointer image, ProgressCallback cb, Pointer arg);

    static native int rbd_diff_iterate2(Pointer image, String fromSnap, long offset, long length,
            byte includeParent, byte wholeObject, DiffCallback cb, Pointer arg);

    static native void rbd_image_options_create(PointerByReference opts);

    static native void rbd_image_options_destroy(Pointer opts);

    static native int rbd_image_options_set_uint64(Pointer opts, int option, long value);

    static native int rbd_namespace_create(Pointer io, String name);

    static native int rbd_namespace_remove(Pointer io, String name);

    static native int rbd_namespace_exists(Pointer io, String name, ByteByReference exists);

    // ---- snapshots and clones ----

    static native int rbd_snap_list(Pointer image, Pointer snaps, IntByReference max);

    static native void rbd_snap_list_end(Pointer snaps);

    static native int rbd_snap_create(Pointer image, String name);

    static native int rbd_snap_protect(Pointer image, String name);

    static native int rbd_snap_is_protected(Pointer image, String name, IntByReference isProtected);

    static native int rbd_snap_exists(Pointer image, String name, ByteByReference exists);

    static native int rbd_snap_remove2(Pointer image, String name, int flags, ProgressCallback cb, Pointer arg);

    static native int rbd_snap_rollback(Pointer image, String name);

    static native int rbd_snap_set(Pointer image, String name);

    static native int rbd_list_children3(Pointer image, Pointer specs, LongByReference max);

    static native void rbd_linked_image_spec_list_cleanup(Pointer specs, long count);

    // ---- exclusive lock and watchers ----

    static native int rbd_lock_acquire(Pointer image, int mode);

    static native int rbd_lock_release(Pointer image);

    static native int rbd_is_exclusive_lock_owner(Pointer image, IntByReference owner);

    static native int rbd_lock_get_owners(Pointer image, IntByReference mode, Pointer owners, LongByReference max);

    static native void rbd_lock_get_owners_cleanup(Pointer owners, long count);

    static native int rbd_lock_break(Pointer image, int mode, String owner);

    static native int rbd_watchers_list(Pointer image, Pointer watchers, LongByReference max);

    static native void rbd_watchers_list_cleanup(Pointer watchers, long count);

    // ---- asynchronous I/O ----

    static native int rbd_aio_create_completion(Pointer arg, CompletionCallback cb, PointerByReference completion);

    static native long rbd_aio_get_return_value(Pointer completion);

    static native void rbd_aio_release(Pointer completion);

    static native int rbd_aio_read(Pointer image, long offset, long length, Pointer buf, Pointer completion);

    static native int rbd_aio_write(Pointer image, long offset, long length, Pointer buf, Pointer completion);

    static native int rbd_aio_write_zeroes(Pointer image, long offset, long length, Pointer completion,
            int zeroFlags, int opFlags);

    static native int rbd_aio_flush(Pointer image, Pointer completion);
}
