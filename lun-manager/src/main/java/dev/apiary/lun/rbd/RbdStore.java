package dev.apiary.lun.rbd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The volume store on a Ceph RBD pool: each {@link VolumeStore} verb is the librbd call it is
 * named after (docs/storage-rbd.md has the table). Snapshots are protected as they are made and
 * clones are format 1, so the pool's {@code rbd_children} index answers "which clones depend on
 * this snapshot" and RBD itself refuses to delete what a clone needs.
 *
 * <p>Control operations are serialized on the store. I/O on open volumes never takes the store's
 * lock. A volume open here is one librbd handle however many times it is opened; operations on
 * an open volume (snapshot, resize, flatten) go through that handle, which holds the image's
 * exclusive lock, rather than ask it for the lock from a second handle.
 */
public final class RbdStore implements VolumeStore {
    /** One mapper for the monitors' JSON answers (fenced() asks once a second). */
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RbdConfig config;
    private volatile Rados rados;
    private final long waitLimitNanos;
    private final Map<String, RbdVolume> open = new HashMap<>();

    private RbdStore(RbdConfig config, Rados rados) {
        this.config = config;
        this.rados = rados;
        // librados fails an operation after opTimeout; this only catches what it would not (a
        // request stuck before it reached the objecter), so it is generous.
        this.waitLimitNanos = config.opTimeout().multipliedBy(2).plusSeconds(5).toNanos();
    }

    /** Connects to the cluster (fails within the op timeout if it cannot) and opens the pool. */
    public static RbdStore open(RbdConfig config) throws IOException {
        return new RbdStore(config, Rados.connect(config));
    }

    public RbdConfig config() {
        return config;
    }

    // ---- fencing ----

    /** This connection's address, as another gateway would blocklist it. */
    public String clientAddress() throws IOException {
        return rados.address();
    }

    /** This connection's global id; it owns locks and watches as "client.ID". */
    public long clientId() {
        return rados.instanceId();
    }

    /**
     * {@code ceph osd blocklist add}: the OSDs refuse every further operation from that client
     * address (it fails with EBLOCKLISTED), so a gateway that lost its lock cannot write after the
     * one that took over has started to.
     */
    public void blocklist(String clientAddress, Duration expire) throws IOException {
        rados.blocklist(clientAddress, (int) Math.max(1, expire.toSeconds()));
    }

    /**
     * Whether the cluster fenced this connection (its address is on the OSD blocklist): then every
     * I/O on it fails, and only {@link #reconnect} serves again. Asks the monitors.
     */
    public boolean fenced() throws IOException {
        String me = rados.address();
        String json = rados.monCommand("{\"prefix\": \"osd blocklist ls\", \"format\": \"json\"}");
        for (JsonNode e : JSON.readTree(json)) {
            if (me.equals(e.path("addr").asText())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the cluster refuses writes to this store's pool for want of space: the pool's quota
     * reached (FULL_QUOTA) or the cluster full. librados does not fail such writes, it holds them
     * until the op timeout; this says why they timed out. Asks the monitors.
     */
    public boolean poolFull() throws IOException {
        JsonNode osdmap =
                JSON.readTree(rados.monCommand("{\"prefix\": \"osd dump\", \"format\": \"json\"}"));
        if (osdmap.path("flags").asText("").matches("(^|.*,)full(,.*|$)")) {
            return true;
        }
        for (JsonNode p : osdmap.path("pools")) {
            if (p.path("pool_name").asText().equals(config.pool())) {
                String flags = p.path("flags_names").asText("");
                return flags.matches("(^|.*,)(full|full_quota)(,.*|$)");
            }
        }
        return false;
    }

    /**
     * A new connection (a new client address, which no blocklist names) with every open volume
     * reopened on it: how a gateway that another one fenced serves again, as tcmu-runner reopens
     * its device after a blocklist. The locks the old connection held are lost. On failure the
     * old connection stays.
     */
    public synchronized void reconnect() throws IOException {
        Rados fresh = Rados.connect(config);
        java.util.Map<RbdVolume, Image> images = new java.util.HashMap<>();
        try {
            for (RbdVolume v : open.values()) {
                images.put(v, Image.open(fresh, v.name, false));
            }
        } catch (IOException | RuntimeException e) {
            for (Image i : images.values()) {
                try {
                    i.close();
                } catch (IOException | RuntimeException ignored) {
                    // closing what was just opened
                }
            }
            fresh.close();
            throw e;
        }
        retired.add(rados); // closed with the store: a call may still be inside it (blocklist, poolFull)
        rados = fresh;
        images.forEach(RbdVolume::reopen);
    }

    /** Connections replaced by {@link #reconnect}, closed with the store. */
    private final List<Rados> retired = new java.util.ArrayList<>();

    String monCommand(String json) throws IOException {
        return rados.monCommand(json);
    }

    // ---- health ----

    /**
     * {@code ceph health} and {@code ceph df} for this store's pool. A cluster that does not answer
     * within the op timeout is an ERROR that says so; this call never throws.
     */
    @Override
    public StoreHealth health() {
        String where = config.pool() + (config.namespace().isEmpty() ? "" : "/" + config.namespace());
        try {
            return RbdHealth.parse(where, config.pool(), rados.monCommand(RbdHealth.HEALTH), rados.monCommand(RbdHealth.DF));
        } catch (IOException | RuntimeException e) {
            return new StoreHealth("rbd", where, StoreHealth.Status.ERROR,
                    List.of("UNREACHABLE: the cluster did not answer: " + e.getMessage()), -1, -1);
        }
    }

    Rados rados() {
        return rados;
    }

    // ---- names ----

    private static void checkName(String what, String name) throws StoreException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new StoreException(Reason.INVALID, what + " name '" + name
                    + "' is not 1-64 characters of letters, digits, '.', '_' or '-'");
        }
    }

    private void notOpen(String name) throws StoreException {
        if (open.containsKey(name)) {
            throw new StoreException(Reason.IN_USE, "volume " + name + " is open (exported?); stop using it first");
        }
    }

    /** A read-only look: no lock taken, no watch registered. */
    private Image look(String name) throws IOException {
        return Image.open(rados, name, true);
    }

    @FunctionalInterface
    private interface ImageWork<T> {
        T apply(Image image) throws IOException;
    }

    /** Runs {@code work} on the open volume's handle, or on a read-write handle opened for it. */
    private <T> T withImage(String name, ImageWork<T> work) throws IOException {
        RbdVolume v = open.get(name);
        if (v != null) {
            return work.apply(v.image);
        }
        try (Image image = Image.open(rados, name, false)) {
            return work.apply(image);
        }
    }

    // ---- operations ----

    @Override
    public synchronized VolumeInfo create(String name, long size) throws IOException {
        checkName("volume", name);
        if (size <= 0) {
            throw new StoreException(Reason.INVALID, "volume " + name + ": size must be positive");
        }
        int rc = LibRbd.rbd_create2(rados.io(), name, size, LibRbd.FEATURES, new IntByReference(LibRbd.ORDER));
        if (rc == -RbdErrors.EEXIST) {
            throw new StoreException(Reason.ALREADY_EXISTS, "volume " + name + " already exists");
        }
        RbdErrors.check(rc, "creating " + config.spec(name));
        return describe(name);
    }

    @Override
    public VolumeInfo importRaw(String name, Path source, Progress progress) throws IOException {
        return RbdImport.run(this, name, source, progress);
    }

    @Override
    public synchronized SnapshotInfo snapshot(String volume, String snapshot) throws IOException {
        checkName("volume", volume);
        checkName("snapshot", snapshot);
        long size = withImage(volume, image -> {
            image.snapCreateProtected(snapshot);
            return image.size();
        });
        return new SnapshotInfo(volume, snapshot, size, List.of());
    }

    @Override
    public synchronized VolumeInfo clone(String volume, String snapshot, String newName) throws IOException {
        checkName("volume", volume);
        checkName("snapshot", snapshot);
        checkName("volume", newName);
        try (Image parent = look(volume)) {
            if (!parent.snapExists(snapshot)) {
                throw new StoreException(Reason.NOT_FOUND, "snapshot " + volume + "@" + snapshot + " does not exist");
            }
        }
        PointerByReference ref = new PointerByReference();
        LibRbd.rbd_image_options_create(ref);
        Pointer opts = ref.getValue();
        try {
            RbdErrors.check(LibRbd.rbd_image_options_set_uint64(opts, LibRbd.IMAGE_OPTION_FEATURES, LibRbd.FEATURES),
                    "clone features");
            // Format 1: children are indexed in the pool, and a snapshot with clones cannot be removed.
            RbdErrors.check(LibRbd.rbd_image_options_set_uint64(opts, LibRbd.IMAGE_OPTION_CLONE_FORMAT, 1),
                    "clone format");
            int rc = LibRbd.rbd_clone3(rados.io(), volume, snapshot, rados.io(), newName, opts);
            if (rc == -RbdErrors.EEXIST) {
                throw new StoreException(Reason.ALREADY_EXISTS, "volume " + newName + " already exists");
            }
            RbdErrors.check(rc, "cloning " + config.spec(volume) + "@" + snapshot + " to " + newName);
        } finally {
            LibRbd.rbd_image_options_destroy(opts);
        }
        return describe(newName);
    }

    @Override
    public void flatten(String name, Progress progress) throws IOException {
        RbdVolume handle;
        synchronized (this) {
            handle = (RbdVolume) open(name);
            try {
                if (handle.image.parent().isEmpty()) {
                    throw new StoreException(Reason.INVALID, "volume " + name + " is not a clone; there is nothing to flatten");
                }
                List<String> snaps = handle.image.snapshots().stream().map(Image.Snap::name).toList();
                if (!snaps.isEmpty()) {
                    // RBD could (deep-flatten), but the store's contract is the file store's: a
                    // clone's snapshots would keep reading through the parent it is cut from.
                    throw new StoreException(Reason.INVALID, "volume " + name + " has snapshots " + snaps
                            + "; delete them before flattening");
                }
            } catch (IOException | RuntimeException e) {
                handle.close();
                throw e;
            }
        }
        try {
            handle.image.flatten(progress); // the long copy runs without the store's lock
        } finally {
            handle.close();
        }
    }

    @Override
    public synchronized void resize(String name, long newSize) throws IOException {
        checkName("volume", name);
        withImage(name, image -> {
            long size = image.size();
            if (newSize < size) {
                throw new StoreException(Reason.INVALID, "volume " + name + ": shrinking from " + size + " to "
                        + newSize + " bytes is refused (it would destroy data)");
            }
            if (newSize > size) {
                image.resize(newSize);
            }
            return null;
        });
    }

    @Override
    public synchronized void delete(String name) throws IOException {
        checkName("volume", name);
        notOpen(name);
        List<Image.Snap> snaps;
        try (Image image = look(name)) {
            snaps = image.snapshots();
            List<String> dependents = new ArrayList<>();
            for (Image.Snap s : snaps) {
                dependents.addAll(image.children(s.name()));
            }
            if (!dependents.isEmpty()) {
                throw new StoreException(Reason.IN_USE, "volume " + name + " has snapshots that clones depend on: "
                        + String.join(", ", dependents));
            }
            openElsewhere(image);
        }
        if (!snaps.isEmpty()) {
            try (Image image = Image.open(rados, name, false)) {
                for (Image.Snap s : snaps) {
                    image.snapRemove(s.name());
                }
            }
        }
        int rc = LibRbd.rbd_remove(rados.io(), name);
        if (rc == -RbdErrors.EBUSY) {
            throw new StoreException(Reason.IN_USE, "volume " + name + " is open by another client");
        }
        RbdErrors.check(rc, "removing " + config.spec(name));
    }

    /** IN_USE if another client (another gateway) has the image open read-write. */
    private static void openElsewhere(Image image) throws IOException {
        List<RbdVolume.Watcher> w = image.watchers();
        if (!w.isEmpty()) {
            throw new StoreException(Reason.IN_USE, "volume " + image.name + " is open by another client ("
                    + w.get(0).address() + ")");
        }
    }

    @Override
    public synchronized void deleteSnapshot(String volume, String snapshot) throws IOException {
        checkName("volume", volume);
        checkName("snapshot", snapshot);
        try (Image image = look(volume)) {
            if (!image.snapExists(snapshot)) {
                throw new StoreException(Reason.NOT_FOUND, "snapshot " + volume + "@" + snapshot + " does not exist");
            }
            List<String> clones = image.children(snapshot);
            if (!clones.isEmpty()) {
                throw new StoreException(Reason.IN_USE, "snapshot " + volume + "@" + snapshot
                        + " has clones that depend on it: " + String.join(", ", clones));
            }
        }
        withImage(volume, image -> {
            image.snapRemove(snapshot);
            return null;
        });
    }

    @Override
    public synchronized void rollback(String volume, String snapshot) throws IOException {
        checkName("volume", volume);
        checkName("snapshot", snapshot);
        try (Image image = look(volume)) {
            if (!image.snapExists(snapshot)) {
                throw new StoreException(Reason.NOT_FOUND, "snapshot " + volume + "@" + snapshot + " does not exist");
            }
            notOpen(volume);
            openElsewhere(image);
        }
        try (Image image = Image.open(rados, volume, false)) {
            image.rollback(snapshot); // contents and size become the snapshot's
        }
    }

    @Override
    public synchronized List<VolumeInfo> list() throws IOException {
        List<VolumeInfo> l = new ArrayList<>();
        for (String name : Image.list(rados)) {
            try {
                l.add(describe(name));
            } catch (StoreException e) {
                if (e.reason != Reason.NOT_FOUND) { // removed by another client since it was listed
                    throw e;
                }
            }
        }
        return l;
    }

    @Override
    public synchronized Optional<VolumeInfo> info(String name) throws IOException {
        checkName("volume", name);
        try {
            return Optional.of(describe(name));
        } catch (StoreException e) {
            if (e.reason == Reason.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private VolumeInfo describe(String name) throws IOException {
        try (Image image = look(name)) {
            List<SnapshotInfo> snaps = new ArrayList<>();
            for (Image.Snap s : image.snapshots()) {
                snaps.add(new SnapshotInfo(name, s.name(), s.size(), image.children(s.name())));
            }
            return new VolumeInfo(name, image.size(), image.parent(), snaps);
        }
    }

    @Override
    public synchronized Usage usage(String name) throws IOException {
        checkName("volume", name);
        try (Image image = look(name)) {
            return new Usage(name, image.allocated(), image.size());
        }
    }

    // ---- open volumes ----

    @Override
    public synchronized Volume open(String name) throws IOException {
        checkName("volume", name);
        RbdVolume v = open.get(name);
        if (v == null) {
            v = new RbdVolume(this, Image.open(rados, name, false), waitLimitNanos);
            open.put(name, v);
        }
        v.handles++;
        return v;
    }

    synchronized void release(RbdVolume v) throws IOException {
        if (v.handles > 0 && --v.handles == 0) {
            open.remove(v.name);
            v.closeImage();
        }
    }

    /** Closes every open volume and the connection; a second close does nothing. */
    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (RbdVolume v : List.copyOf(open.values())) {
            try {
                v.handles = 0;
                open.remove(v.name);
                v.closeImage();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        rados.close();
        retired.forEach(Rados::close);
        if (first != null) {
            throw first;
        }
    }
}
