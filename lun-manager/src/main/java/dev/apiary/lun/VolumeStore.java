package dev.apiary.lun;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The one interface for images, snapshots and clones. Each operation is one Ceph RBD verb
 * (named beside it), so the embedded file store and the RBD store are interchangeable:
 *
 * <ul>
 *   <li>a <b>volume</b> is a writable image ({@code rbd create});
 *   <li>a <b>snapshot</b> is a named, immutable view of a volume at one moment ({@code rbd snap
 *       create} + {@code snap protect}); the volume stays writable;
 *   <li>a <b>clone</b> is a new volume whose unwritten blocks read from a snapshot, made in constant
 *       time ({@code rbd clone}); {@link #flatten} copies those blocks in and cuts the link.
 * </ul>
 *
 * Names are 1-64 characters of {@code [A-Za-z0-9._-]}. Failures are {@link StoreException}s whose
 * reason says what kind of failure it is and whose message names the volume.
 */
public interface VolumeStore extends Closeable {
    /** Volume and snapshot names: 1-64 characters, not starting with '.' or '-'. */
    java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}");

    /** A snapshot named as users and the configuration write it: VOLUME@SNAPSHOT. */
    java.util.regex.Pattern SNAPSHOT_REF = java.util.regex.Pattern.compile(NAME.pattern() + "@" + NAME.pattern());

    /** {@code rbd create}: a new sparse volume that reads as zeros. */
    VolumeInfo create(String name, long size) throws IOException;

    /** {@code rbd import}: a new volume holding a raw image file, streamed; zero blocks stay unallocated. */
    VolumeInfo importRaw(String name, Path source, Progress progress) throws IOException;

    /** {@code rbd snap create} + {@code snap protect}: an immutable view of the volume as it is now. */
    SnapshotInfo snapshot(String volume, String snapshot) throws IOException;

    /** {@code rbd clone}: a new volume on top of a snapshot; constant time whatever the size. */
    VolumeInfo clone(String volume, String snapshot, String newName) throws IOException;

    /** {@code rbd flatten}: copies what a clone still reads from its parent, then cuts the link. Works online. */
    void flatten(String name, Progress progress) throws IOException;

    /** {@code rbd resize}: grows a volume (an open one too; the target reports it as a unit attention). */
    void resize(String name, long newSize) throws IOException;

    /** {@code rbd rm}: refused while a clone depends on one of the volume's snapshots, or while it is open. */
    void delete(String name) throws IOException;

    /** {@code rbd snap unprotect} + {@code snap rm}: refused while clones depend on the snapshot. */
    void deleteSnapshot(String volume, String snapshot) throws IOException;

    /**
     * {@code rbd snap rollback}: the volume's contents and size become the snapshot's; what was written
     * since is gone. The snapshot and the volume's other snapshots stay. Refused while the volume is open.
     */
    void rollback(String volume, String snapshot) throws IOException;

    /** {@code rbd ls -l}: every volume with its parent and its snapshots' children. */
    List<VolumeInfo> list() throws IOException;

    Optional<VolumeInfo> info(String name) throws IOException;

    /** {@code rbd du}: bytes the volume's own data takes, against its size. */
    Usage usage(String name) throws IOException;

    /**
     * {@code ceph health} and {@code ceph df} for this store: never throws, since a store that
     * cannot be asked (a cluster without quorum) is itself the answer, an ERROR.
     */
    StoreHealth health();

    /**
     * Opens a volume for I/O. Opening an open volume returns a handle to the same volume; each
     * handle is closed once.
     */
    Volume open(String name) throws IOException;

    /** Progress of a long operation: {@code done} of {@code total} bytes. Called from the working thread. */
    @FunctionalInterface
    interface Progress {
        Progress NONE = (done, total) -> {};

        void update(long done, long total);
    }

    /** A snapshot a clone was made from. */
    record SnapshotRef(String volume, String snapshot) {
        @Override
        public String toString() {
            return volume + "@" + snapshot;
        }
    }

    record SnapshotInfo(String volume, String name, long size, List<String> clones) {}

    record VolumeInfo(String name, long size, Optional<SnapshotRef> parent, List<SnapshotInfo> snapshots) {}

    record Usage(String name, long allocatedBytes, long virtualBytes) {}
}
