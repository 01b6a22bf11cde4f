package dev.apiary.lun.rbd;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.ByteByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.VolumeStore.Progress;
import dev.apiary.lun.VolumeStore.SnapshotRef;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An open librbd image ({@code rbd_image_t}) and the control calls on it. Used for the store's
 * short-lived handles as well as inside an open {@link RbdVolume}. Error messages name the image
 * by its spec (pool/name).
 */
final class Image implements AutoCloseable {
    final Rados rados;
    final String name;
    final String spec;
    final boolean readOnly;
    final Pointer handle;

    private Image(Rados rados, String name, boolean readOnly, Pointer handle) {
        this.rados = rados;
        this.name = name;
        this.spec = rados.config.spec(name);
        this.readOnly = readOnly;
        this.handle = handle;
    }

    /** Opens the image's head; read-only handles take no lock and register no watch. */
    static Image open(Rados rados, String name, boolean readOnly) throws IOException {
        PointerByReference ref = new PointerByReference();
        int rc = readOnly ? LibRbd.rbd_open_read_only(rados.io(), name, ref, null)
                : LibRbd.rbd_open(rados.io(), name, ref, null);
        if (rc == -RbdErrors.ENOENT) {
            throw new StoreException(Reason.NOT_FOUND, "volume " + name + " does not exist");
        }
        RbdErrors.check(rc, "opening " + rados.config.spec(name));
        return new Image(rados, name, readOnly, ref.getValue());
    }

    /** The images of the pool (namespace), sorted. */
    static List<String> list(Rados rados) throws IOException {
        for (long max = 64; ; ) {
            LongByReference n = new LongByReference(max);
            try (Memory buf = new Memory(max * LibRbd.IMAGE_SPEC_SIZE)) {
                int rc = LibRbd.rbd_list2(rados.io(), buf, n);
                if (rc == -RbdErrors.ERANGE) {
                    max = Math.max(n.getValue(), max * 2);
                    continue;
                }
                RbdErrors.check(rc, "listing " + rados.config.spec(""));
                List<String> names = new ArrayList<>();
                for (long i = 0; i < n.getValue(); i++) {
                    names.add(buf.getPointer(i * LibRbd.IMAGE_SPEC_SIZE + 8).getString(0));
                }
                LibRbd.rbd_image_spec_list_cleanup(buf, n.getValue());
                names.sort(null);
                return names;
            }
        }
    }

    long size() throws IOException {
        LongByReference size = new LongByReference();
        RbdErrors.check(LibRbd.rbd_get_size(handle, size), "size of " + spec);
        return size.getValue();
    }

    void resize(long newSize) throws IOException {
        RbdErrors.check(LibRbd.rbd_resize(handle, newSize), "resizing " + spec + " to " + newSize + " bytes");
    }

    /** The snapshot this image is a clone of, if any. */
    Optional<SnapshotRef> parent() throws IOException {
        try (Memory image = new Memory(LibRbd.LINKED_SPEC_SIZE); Memory snap = new Memory(LibRbd.SNAP_SPEC_SIZE)) {
            int rc = LibRbd.rbd_get_parent(handle, image, snap);
            if (rc == -RbdErrors.ENOENT) {
                return Optional.empty();
            }
            RbdErrors.check(rc, "parent of " + spec);
            try {
                return Optional.of(new SnapshotRef(image.getPointer(32).getString(0), snap.getPointer(16).getString(0)));
            } finally {
                LibRbd.rbd_linked_image_spec_cleanup(image);
                LibRbd.rbd_snap_spec_cleanup(snap);
            }
        }
    }

    record Snap(long id, String name, long size) {}

    /** The image's snapshots, oldest first. */
    List<Snap> snapshots() throws IOException {
        for (int max = 16; ; ) {
            IntByReference n = new IntByReference(max);
            try (Memory buf = new Memory((long) (max + 1) * LibRbd.SNAP_INFO_SIZE)) {
                buf.clear();
                int rc = LibRbd.rbd_snap_list(handle, buf, n);
                if (rc == -RbdErrors.ERANGE) {
                    max = Math.max(n.getValue(), max * 2);
                    continue;
                }
                RbdErrors.check(rc, "snapshots of " + spec);
                List<Snap> snaps = new ArrayList<>(rc);
                for (int i = 0; i < rc; i++) {
                    long at = (long) i * LibRbd.SNAP_INFO_SIZE;
                    snaps.add(new Snap(buf.getLong(at), buf.getPointer(at + 16).getString(0), buf.getLong(at + 8)));
                }
                LibRbd.rbd_snap_list_end(buf);
                snaps.sort((a, b) -> Long.compare(a.id(), b.id()));
                return snaps;
            }
        }
    }

    boolean snapExists(String snap) throws IOException {
        ByteByReference exists = new ByteByReference();
        RbdErrors.check(LibRbd.rbd_snap_exists(handle, snap, exists), "snapshot " + spec + "@" + snap);
        return exists.getValue() != 0;
    }

    /** rbd snap create + snap protect: clone v1 needs the snapshot protected. */
    void snapCreateProtected(String snap) throws IOException {
        int rc = LibRbd.rbd_snap_create(handle, snap);
        if (rc == -RbdErrors.EEXIST) {
            throw new StoreException(Reason.ALREADY_EXISTS, "snapshot " + name + "@" + snap + " already exists");
        }
        RbdErrors.check(rc, "creating snapshot " + spec + "@" + snap);
        rc = LibRbd.rbd_snap_protect(handle, snap);
        if (rc < 0) {
            LibRbd.rbd_snap_remove2(handle, snap, 0, NO_PROGRESS, null); // not half made
            RbdErrors.check(rc, "protecting snapshot " + spec + "@" + snap);
        }
    }

    /** rbd snap unprotect + snap rm in one call; librbd refuses (EBUSY) while a clone depends on it. */
    void snapRemove(String snap) throws IOException {
        RbdErrors.check(LibRbd.rbd_snap_remove2(handle, snap, LibRbd.SNAP_REMOVE_UNPROTECT, NO_PROGRESS, null),
                "removing snapshot " + spec + "@" + snap);
    }

    void rollback(String snap) throws IOException {
        RbdErrors.check(LibRbd.rbd_snap_rollback(handle, snap), "rolling " + spec + " back to @" + snap);
    }

    /** Clones of {@code snap} in this store's pool and namespace, sorted; needs a read-only handle. */
    List<String> children(String snap) throws IOException {
        if (!readOnly) {
            throw new IllegalStateException("children are listed through a read-only handle");
        }
        RbdErrors.check(LibRbd.rbd_snap_set(handle, snap), "snapshot " + spec + "@" + snap);
        try {
            for (long max = 16; ; ) {
                LongByReference n = new LongByReference(max);
                try (Memory buf = new Memory(max * LibRbd.LINKED_SPEC_SIZE)) {
                    int rc = LibRbd.rbd_list_children3(handle, buf, n);
                    if (rc == -RbdErrors.ERANGE) {
                        max = Math.max(n.getValue(), max * 2);
                        continue;
                    }
                    RbdErrors.check(rc, "clones of " + spec + "@" + snap);
                    List<String> names = new ArrayList<>();
                    for (long i = 0; i < n.getValue(); i++) {
                        long at = i * LibRbd.LINKED_SPEC_SIZE;
                        String pool = buf.getPointer(at + 8).getString(0);
                        String ns = buf.getPointer(at + 16).getString(0);
                        boolean trash = buf.getByte(at + 40) != 0;
                        if (!trash && pool.equals(rados.config.pool()) && ns.equals(rados.config.namespace())) {
                            names.add(buf.getPointer(at + 32).getString(0));
                        }
                    }
                    LibRbd.rbd_linked_image_spec_list_cleanup(buf, n.getValue());
                    names.sort(null);
                    return names;
                }
            }
        } finally {
            LibRbd.rbd_snap_set(handle, null);
        }
    }

    /**
     * Bytes of data the image itself holds (not its parent's): the extents librbd's diff reports
     * from the image's creation to now. Writes of zeros count; discarded ranges do not.
     */
    long allocated() throws IOException {
        long[] total = {0};
        LibRbd.DiffCallback cb = (off, len, exists, arg) -> {
            if (exists != 0) {
                total[0] += len;
            }
            return 0;
        };
        RbdErrors.check(LibRbd.rbd_diff_iterate2(handle, null, 0, size(), (byte) 0, (byte) 0, cb, null),
                "usage of " + spec);
        return total[0];
    }

    /** rbd flatten; librbd reports progress in objects, scaled here to bytes of the image. */
    void flatten(Progress progress) throws IOException {
        long size = size();
        long[] last = {0};
        Throwable[] failed = {null};
        LibRbd.ProgressCallback cb = (done, total, arg) -> {
            long bytes = total <= 0 || done >= total ? size : (long) ((double) done / total * size);
            try {
                if (bytes >= last[0]) {
                    last[0] = bytes;
                    progress.update(bytes, size);
                }
                return 0;
            } catch (RuntimeException | Error e) { // never let an exception unwind through librbd
                failed[0] = e;
                return 1; // cancels the flatten
            }
        };
        int rc = LibRbd.rbd_flatten_with_progress(handle, cb, null);
        rethrow(failed[0]);
        RbdErrors.check(rc, "flattening " + spec);
        if (last[0] < size) {
            progress.update(size, size);
        }
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    /** Clients that have the image open read-write (each registers a watch on its header). */
    List<RbdVolume.Watcher> watchers() throws IOException {
        for (long max = 8; ; ) {
            LongByReference n = new LongByReference(max);
            try (Memory buf = new Memory(max * LibRbd.WATCHER_SIZE)) {
                int rc = LibRbd.rbd_watchers_list(handle, buf, n);
                if (rc == -RbdErrors.ERANGE) {
                    max = Math.max(n.getValue(), max * 2);
                    continue;
                }
                RbdErrors.check(rc, "watchers of " + spec);
                List<RbdVolume.Watcher> l = new ArrayList<>();
                for (long i = 0; i < n.getValue(); i++) {
                    long at = i * LibRbd.WATCHER_SIZE;
                    l.add(new RbdVolume.Watcher(buf.getPointer(at).getString(0), buf.getLong(at + 8), buf.getLong(at + 16)));
                }
                LibRbd.rbd_watchers_list_cleanup(buf, n.getValue());
                return l;
            }
        }
    }

    private static final LibRbd.ProgressCallback NO_PROGRESS = (done, total, arg) -> 0;

    @Override
    public void close() throws IOException {
        RbdErrors.check(LibRbd.rbd_close(handle), "closing " + spec);
    }
}
