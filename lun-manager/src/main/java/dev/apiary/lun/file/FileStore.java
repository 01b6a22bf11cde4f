package dev.apiary.lun.file;

import dev.apiary.lun.SparseFiles;
import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded volume store: one directory with a catalog (catalog.json) and, under layers/, a
 * sparse data file per layer plus, for copy-on-write layers, a map and a journal. docs/storage.md
 * describes the format. Control operations are serialized on the store; I/O on open volumes does
 * not take the store's lock.
 */
public final class FileStore implements VolumeStore {
    /** Store-wide settings: the cluster size (fixed when the store is made) and the shared cache. */
    public record Options(int clusterSize, long cacheBytes) {
        public static Options defaults() {
            return new Options(4096, 256L << 20);
        }
    }

    private final Path dir;
    private final Path catalogFile;
    private final Path layersDir;
    private final int clusterSize;
    private final ClusterCache cache;
    private final AtomicLong diskReads = new AtomicLong();
    private final Map<String, Layer> layers = new HashMap<>();
    private final Map<String, Integer> layerRefs = new HashMap<>();
    private final Map<String, StoreVolume> volumes = new HashMap<>();
    private Catalog.Data catalog;
    private java.nio.channels.FileChannel lockChannel;
    private java.nio.channels.FileLock lock;

    private FileStore(Path dir, Catalog.Data catalog, long cacheBytes) {
        this.dir = dir;
        this.catalogFile = dir.resolve("catalog.json");
        this.layersDir = dir.resolve("layers");
        this.catalog = catalog;
        this.clusterSize = catalog.clusterSize();
        this.cache = new ClusterCache(cacheBytes / clusterSize);
    }

    public static FileStore open(Path dir) throws IOException {
        return open(dir, Options.defaults());
    }

    /** Opens the store in {@code dir}, making it if the directory has none; cleans what a crash left. */
    public static FileStore open(Path dir, Options options) throws IOException {
        Files.createDirectories(dir.resolve("layers"));
        // One process per store: two would each believe their cached catalog and maps.
        var lockChannel = java.nio.channels.FileChannel.open(dir.resolve("lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new StoreException(Reason.IN_USE, "store " + dir + " is in use by another process or handle");
        }
        try {
            FileStore s = openLocked(dir, options);
            s.lockChannel = lockChannel;
            s.lock = lock;
            return s;
        } catch (IOException | RuntimeException e) {
            lockChannel.close();
            throw e;
        }
    }

    private static FileStore openLocked(Path dir, Options options) throws IOException {
        Path catalogFile = dir.resolve("catalog.json");
        Files.deleteIfExists(dir.resolve("catalog.json.tmp"));
        Catalog.Data data;
        if (Files.exists(catalogFile)) {
            try {
                data = Catalog.read(catalogFile);
            } catch (IOException e) {
                throw new StoreException(Reason.CORRUPT, "store " + dir + ": " + e.getMessage(), e);
            }
        } else {
            int cs = options.clusterSize();
            if (cs < 512 || Integer.bitCount(cs) != 1 || cs > (1 << 20)) {
                throw new StoreException(Reason.INVALID, "cluster size must be a power of two from 512 to 1 MiB");
            }
            data = new Catalog.Data(Catalog.FORMAT, cs, 1, Map.of(), Map.of());
            Catalog.write(catalogFile, data);
        }
        FileStore s = new FileStore(dir, data, options.cacheBytes());
        s.removeOrphans();
        return s;
    }

    public Path directory() {
        return dir;
    }

    /** Bytes read from layer files (cache misses included, cache hits not): what a boot storm costs the disk. */
    public long diskReadBytes() {
        return diskReads.get();
    }

    private static final Pattern LAYER_FILE = Pattern.compile("(L[0-9]+)\\.(data|map|journal|map\\.tmp)");

    /**
     * Deletes layer files no catalog names: what an operation that crashed before its commit left.
     * Runs only after the catalog passed every check, and touches only files named like ours.
     */
    private void removeOrphans() throws IOException {
        try (Stream<Path> files = Files.list(layersDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                var m = LAYER_FILE.matcher(f.getFileName().toString());
                if (m.matches() && (!catalog.layers().containsKey(m.group(1)) || m.group(2).endsWith(".tmp"))) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    // ---- names and records ----

    private static void checkName(String what, String name) throws StoreException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new StoreException(Reason.INVALID, what + " name '" + name
                    + "' is not 1-64 characters of letters, digits, '.', '_' or '-'");
        }
    }

    private Catalog.VolumeRecord volume(String name) throws StoreException {
        checkName("volume", name);
        Catalog.VolumeRecord v = catalog.volumes().get(name);
        if (v == null) {
            throw new StoreException(Reason.NOT_FOUND, "volume " + name + " does not exist");
        }
        return v;
    }

    private void absent(String name) throws StoreException {
        checkName("volume", name);
        if (catalog.volumes().containsKey(name)) {
            throw new StoreException(Reason.ALREADY_EXISTS, "volume " + name + " already exists");
        }
    }

    private Path file(String layer, String ext) {
        return layersDir.resolve(layer + "." + ext);
    }

    private String newLayerId() {
        return "L" + catalog.nextLayer();
    }

    private Catalog.Data with(Map<String, Catalog.LayerRecord> layerMap, Map<String, Catalog.VolumeRecord> volumeMap,
            long nextLayer) {
        return new Catalog.Data(Catalog.FORMAT, clusterSize, nextLayer, layerMap, volumeMap);
    }

    /** The single commit point of every operation. */
    private void commit(Catalog.Data next) throws IOException {
        Catalog.write(catalogFile, next);
        catalog = next;
    }

    // ---- operations ----

    @Override
    public synchronized VolumeInfo create(String name, long size) throws IOException {
        absent(name);
        if (size <= 0) {
            throw new StoreException(Reason.INVALID, "volume " + name + ": size must be positive");
        }
        String id = newLayerId();
        Layer.createDataFile(file(id, "data"), size);
        commitNewVolume(name, id, size, null, null);
        return info(name).orElseThrow();
    }

    private void commitNewVolume(String name, String layer, long size, String parentLayer, VolumeStore.SnapshotRef origin)
            throws IOException {
        var ls = new HashMap<>(catalog.layers());
        ls.put(layer, new Catalog.LayerRecord(parentLayer, false, size));
        var vs = new HashMap<>(catalog.volumes());
        vs.put(name, new Catalog.VolumeRecord(layer, size, Map.of(), origin == null ? null : origin.volume(),
                origin == null ? null : origin.snapshot(), System.currentTimeMillis()));
        commit(with(ls, vs, catalog.nextLayer() + 1));
    }

    @Override
    public synchronized VolumeInfo importRaw(String name, Path source, Progress progress) throws IOException {
        absent(name);
        long size = Files.size(source);
        if (size <= 0) {
            throw new StoreException(Reason.INVALID, "import " + name + ": " + source + " is empty");
        }
        String id = newLayerId();
        Layer.createDataFile(file(id, "data"), size);
        try (RawLayer layer = new RawLayer(id, -1, file(id, "data"), clusterSize, size, false, null, diskReads);
                FileChannel in = FileChannel.open(source)) {
            byte[] buf = new byte[1 << 20];
            // Only the source's allocated ranges are read (its holes read as zeros), and zero clusters
            // stay holes: an imported image is as sparse as its content, and as quick to import.
            long pos = 0;
            for (SparseFiles.Extent e : SparseFiles.dataExtents(source)) {
                // whole clusters, as the layer keeps them; a chunk may have read into this extent already
                for (pos = Math.max(pos, e.start() - e.start() % clusterSize); pos < e.end(); ) {
                    int n = (int) Math.min(buf.length, size - pos);
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining() && in.read(b, pos + b.position()) > 0) {
                        // read the chunk fully
                    }
                    if (b.hasRemaining()) {
                        throw new StoreException(Reason.INVALID, "import " + name + ": " + source + " ended at "
                                + (pos + b.position()) + " of " + size + " bytes");
                    }
                    for (int at = 0; at < n; at += clusterSize) {
                        int len = Math.min(clusterSize, n - at);
                        if (!allZero(buf, at, len)) {
                            layer.write(pos + at, ByteBuffer.wrap(buf, at, len));
                        }
                    }
                    pos += n;
                    progress.update(Math.min(pos, size), size);
                }
            }
            layer.flush();
            progress.update(size, size);
        }
        commitNewVolume(name, id, size, null, null);
        return info(name).orElseThrow();
    }

    private static boolean allZero(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized SnapshotInfo snapshot(String volume, String snapshot) throws IOException {
        Catalog.VolumeRecord v = volume(volume);
        checkName("snapshot", snapshot);
        if (v.snapshots().containsKey(snapshot)) {
            throw new StoreException(Reason.ALREADY_EXISTS, "snapshot " + volume + "@" + snapshot + " already exists");
        }
        StoreVolume open = volumes.get(volume);
        if (open != null) {
            open.swap.writeLock().lock(); // no I/O while the top layer is sealed and replaced
        }
        try {
            if (open != null) {
                open.top.flush();
            }
            String sealedId = v.top();
            String id = newLayerId();
            createOverlayFiles(id, v.size());
            var ls = new HashMap<>(catalog.layers());
            Catalog.LayerRecord old = ls.get(sealedId);
            ls.put(sealedId, new Catalog.LayerRecord(old.parent(), true, old.size()));
            ls.put(id, new Catalog.LayerRecord(sealedId, false, v.size()));
            Catalog.VolumeRecord nv = v.withTop(id, v.size());
            nv.snapshots().put(snapshot, sealedId);
            var vs = new HashMap<>(catalog.volumes());
            vs.put(volume, nv);
            commit(with(ls, vs, catalog.nextLayer() + 1));
            if (open != null) {
                Layer sealedLayer = open.top;
                sealedLayer.sealed = true;
                open.top = acquire(id); // takes its own reference on the sealed parent
                release(sealedLayer);
            }
        } finally {
            if (open != null) {
                open.swap.writeLock().unlock();
            }
        }
        return new SnapshotInfo(volume, snapshot, v.size(), List.of());
    }

    private void createOverlayFiles(String id, long size) throws IOException {
        Layer.createDataFile(file(id, "data"), size);
        MapJournal.createEmpty(file(id, "map"), file(id, "journal"), clusterSize, clusters(size));
    }

    private long clusters(long size) {
        return (size + clusterSize - 1) / clusterSize;
    }

    @Override
    public synchronized VolumeInfo clone(String volume, String snapshot, String newName) throws IOException {
        Catalog.VolumeRecord v = volume(volume);
        checkName("snapshot", snapshot);
        String layer = v.snapshots().get(snapshot);
        if (layer == null) {
            throw new StoreException(Reason.NOT_FOUND, "snapshot " + volume + "@" + snapshot + " does not exist");
        }
        absent(newName);
        long size = catalog.layers().get(layer).size();
        String id = newLayerId();
        createOverlayFiles(id, size); // constant time: an empty map and a sparse file
        commitNewVolume(newName, id, size, layer, new SnapshotRef(volume, snapshot));
        return info(newName).orElseThrow();
    }

    @Override
    public void flatten(String name, Progress progress) throws IOException {
        StoreVolume handle;
        synchronized (this) {
            Catalog.VolumeRecord v = volume(name);
            if (v.originVolume() == null) {
                throw new StoreException(Reason.INVALID, "volume " + name + " is not a clone; there is nothing to flatten");
            }
            if (!v.snapshots().isEmpty()) {
                throw new StoreException(Reason.INVALID, "volume " + name + " has snapshots " + v.snapshots().keySet()
                        + "; delete them before flattening");
            }
            handle = (StoreVolume) open(name);
        }
        try {
            // The long copy runs without the store lock: other volumes stay manageable meanwhile.
            ((OverlayLayer) handle.top).copyAllFromParent(progress);
            synchronized (this) {
                handle.swap.writeLock().lock();
                try {
                    Catalog.VolumeRecord v = volume(name);
                    var ls = new HashMap<>(catalog.layers());
                    Catalog.LayerRecord top = ls.get(v.top());
                    ls.put(v.top(), new Catalog.LayerRecord(null, false, top.size()));
                    var vs = new HashMap<>(catalog.volumes());
                    vs.put(name, v.withoutOrigin());
                    commit(with(ls, vs, catalog.nextLayer()));
                    Layer overlay = handle.top;
                    layers.remove(overlay.id);
                    layerRefs.remove(overlay.id);
                    handle.top = acquire(v.top()); // now a raw layer over the same data file
                    overlay.close();
                    release(((OverlayLayer) overlay).parent);
                    Files.deleteIfExists(file(v.top(), "map"));
                    Files.deleteIfExists(file(v.top(), "journal"));
                } finally {
                    handle.swap.writeLock().unlock();
                }
            }
        } finally {
            handle.close();
        }
    }

    @Override
    public synchronized void resize(String name, long newSize) throws IOException {
        Catalog.VolumeRecord v = volume(name);
        if (newSize < v.size()) {
            throw new StoreException(Reason.INVALID, "volume " + name + ": shrinking from " + v.size() + " to "
                    + newSize + " bytes is refused (it would destroy data)");
        }
        if (newSize == v.size()) {
            return;
        }
        StoreVolume h = (StoreVolume) open(name);
        try {
            h.top.grow(newSize);
            var ls = new HashMap<>(catalog.layers());
            Catalog.LayerRecord top = ls.get(v.top());
            ls.put(v.top(), new Catalog.LayerRecord(top.parent(), false, newSize));
            var vs = new HashMap<>(catalog.volumes());
            vs.put(name, v.withTop(v.top(), newSize));
            commit(with(ls, vs, catalog.nextLayer()));
        } finally {
            h.close();
        }
    }

    @Override
    public synchronized void delete(String name) throws IOException {
        Catalog.VolumeRecord v = volume(name);
        if (volumes.containsKey(name)) {
            throw new StoreException(Reason.IN_USE, "volume " + name + " is open (exported?); stop using it first");
        }
        List<String> dependents = new ArrayList<>();
        for (String s : v.snapshots().keySet()) {
            dependents.addAll(clonesOf(name, s));
        }
        if (!dependents.isEmpty()) {
            throw new StoreException(Reason.IN_USE, "volume " + name + " has snapshots that clones depend on: "
                    + String.join(", ", dependents));
        }
        var vs = new HashMap<>(catalog.volumes());
        vs.remove(name);
        collect(catalog.layers(), vs, catalog.nextLayer());
    }

    @Override
    public synchronized void deleteSnapshot(String volume, String snapshot) throws IOException {
        Catalog.VolumeRecord v = volume(volume);
        checkName("snapshot", snapshot);
        if (!v.snapshots().containsKey(snapshot)) {
            throw new StoreException(Reason.NOT_FOUND, "snapshot " + volume + "@" + snapshot + " does not exist");
        }
        List<String> clones = clonesOf(volume, snapshot);
        if (!clones.isEmpty()) {
            throw new StoreException(Reason.IN_USE, "snapshot " + volume + "@" + snapshot
                    + " has clones that depend on it: " + String.join(", ", clones));
        }
        Catalog.VolumeRecord nv = v.withTop(v.top(), v.size());
        nv.snapshots().remove(snapshot);
        var vs = new HashMap<>(catalog.volumes());
        vs.put(volume, nv);
        collect(catalog.layers(), vs, catalog.nextLayer());
    }

    @Override
    public synchronized void rollback(String volume, String snapshot) throws IOException {
        Catalog.VolumeRecord v = volume(volume);
        checkName("snapshot", snapshot);
        String sealed = v.snapshots().get(snapshot);
        if (sealed == null) {
            throw new StoreException(Reason.NOT_FOUND, "snapshot " + volume + "@" + snapshot + " does not exist");
        }
        if (volumes.containsKey(volume)) {
            throw new StoreException(Reason.IN_USE, "volume " + volume + " is open (exported?); stop using it first");
        }
        // The volume gets a fresh empty top on the snapshot's sealed layer, in the catalog commit that
        // also drops the old top: before the commit it reads as it was, after it as the snapshot.
        long size = catalog.layers().get(sealed).size();
        String id = newLayerId();
        createOverlayFiles(id, size);
        var ls = new HashMap<>(catalog.layers());
        ls.put(id, new Catalog.LayerRecord(sealed, false, size));
        var vs = new HashMap<>(catalog.volumes());
        vs.put(volume, v.withTop(id, size));
        collect(ls, vs, catalog.nextLayer() + 1);
    }

    /** Commits {@code vs} with only the layers of {@code all} it still reaches, then deletes the files of the rest. */
    private void collect(Map<String, Catalog.LayerRecord> all, Map<String, Catalog.VolumeRecord> vs, long nextLayer)
            throws IOException {
        Set<String> live = new HashSet<>();
        for (Catalog.VolumeRecord v : vs.values()) {
            for (String l = v.top(); l != null && live.add(l); l = all.get(l).parent()) {}
            for (String s : v.snapshots().values()) {
                for (String l = s; l != null && live.add(l); l = all.get(l).parent()) {}
            }
        }
        var ls = new HashMap<>(all);
        List<String> dead = new ArrayList<>(ls.keySet());
        dead.removeAll(live);
        dead.removeIf(layers::containsKey); // an open layer keeps its files until released
        dead.forEach(ls::remove);
        commit(with(ls, vs, nextLayer));
        for (String id : dead) {
            for (String ext : List.of("data", "map", "journal")) {
                Files.deleteIfExists(file(id, ext));
            }
        }
    }

    private List<String> clonesOf(String volume, String snapshot) {
        List<String> l = new ArrayList<>();
        catalog.volumes().forEach((n, v) -> {
            if (volume.equals(v.originVolume()) && snapshot.equals(v.originSnapshot())) {
                l.add(n);
            }
        });
        return l;
    }

    @Override
    public synchronized List<VolumeInfo> list() {
        List<VolumeInfo> l = new ArrayList<>();
        for (String n : catalog.volumes().keySet()) {
            l.add(describe(n));
        }
        return l;
    }

    @Override
    public synchronized Optional<VolumeInfo> info(String name) throws StoreException {
        checkName("volume", name);
        return catalog.volumes().containsKey(name) ? Optional.of(describe(name)) : Optional.empty();
    }

    private VolumeInfo describe(String name) {
        Catalog.VolumeRecord v = catalog.volumes().get(name);
        List<SnapshotInfo> snaps = new ArrayList<>();
        v.snapshots().forEach((s, layer) ->
                snaps.add(new SnapshotInfo(name, s, catalog.layers().get(layer).size(), clonesOf(name, s))));
        Optional<SnapshotRef> parent = v.originVolume() == null ? Optional.empty()
                : Optional.of(new SnapshotRef(v.originVolume(), v.originSnapshot()));
        return new VolumeInfo(name, v.size(), parent, snaps);
    }

    /** The filesystem that holds the store, as {@code df} sees it: what fills it fails the store's writes. */
    @Override
    public StoreHealth health() {
        try {
            java.nio.file.FileStore fs = Files.getFileStore(dir);
            long available = fs.getUsableSpace();
            return StoreHealth.ofSpace("file", dir.toString(), fs.getTotalSpace() - available, available);
        } catch (IOException e) {
            return new StoreHealth("file", dir.toString(), StoreHealth.Status.ERROR,
                    java.util.List.of("UNREADABLE: " + e.getMessage()), -1, -1);
        }
    }

    /** The volume's own layers: from its top down to (not including) the snapshot it was cloned from. */
    @Override
    public synchronized Usage usage(String name) throws IOException {
        Catalog.VolumeRecord v = volume(name);
        String stop = v.originVolume() == null ? null
                : catalog.volumes().get(v.originVolume()).snapshots().get(v.originSnapshot());
        long allocated = 0;
        for (String l = v.top(); l != null && !l.equals(stop); l = catalog.layers().get(l).parent()) {
            Layer layer = acquire(l);
            try {
                allocated += layer.allocated();
            } finally {
                release(layer);
            }
        }
        return new Usage(name, allocated, v.size());
    }

    // ---- open volumes and shared layers ----

    @Override
    public synchronized Volume open(String name) throws IOException {
        StoreVolume h = volumes.get(name);
        if (h == null) {
            Catalog.VolumeRecord v = volume(name);
            try {
                h = new StoreVolume(name, this, acquire(v.top()));
            } catch (StoreException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw new StoreException(Reason.CORRUPT, "volume " + name + ": " + e.getMessage(), e);
            }
            volumes.put(name, h);
        }
        h.handles++;
        return h;
    }

    synchronized void release(StoreVolume h) throws IOException {
        if (--h.handles == 0) {
            volumes.remove(h.name);
            release(h.top);
        }
    }

    /** A layer object shared by every open volume whose chain includes it, parents first. */
    private Layer acquire(String id) throws IOException {
        Layer l = layers.get(id);
        if (l != null) {
            layerRefs.merge(id, 1, Integer::sum);
            return l;
        }
        Catalog.LayerRecord r = catalog.layers().get(id);
        if (r == null) {
            throw new IOException("layer " + id + " is missing from the catalog");
        }
        long key = Long.parseLong(id.substring(1));
        Path data = file(id, "data");
        if (!Files.exists(data)) {
            throw new IOException("layer " + id + ": data file " + data.getFileName() + " is missing");
        }
        if (r.parent() == null) {
            l = new RawLayer(id, key, data, clusterSize, r.size(), r.sealed(), cache, diskReads);
        } else {
            Layer parent = acquire(r.parent());
            try {
                ClusterMap map = new ClusterMap(clusters(r.size()));
                MapJournal journal;
                try {
                    journal = MapJournal.open(file(id, "map"), file(id, "journal"), clusterSize, map);
                } catch (IOException e) {
                    throw new IOException("layer " + id + ": " + e.getMessage(), e);
                }
                l = new OverlayLayer(id, key, data, clusterSize, r.size(), r.sealed(), cache, diskReads, parent, map,
                        journal);
            } catch (IOException | RuntimeException e) {
                release(parent);
                throw e;
            }
        }
        layers.put(id, l);
        layerRefs.put(id, 1);
        return l;
    }

    private void release(Layer l) throws IOException {
        int refs = layerRefs.merge(l.id, -1, Integer::sum);
        if (refs == 0) {
            layers.remove(l.id);
            layerRefs.remove(l.id);
            l.close();
            if (l instanceof OverlayLayer o) {
                release(o.parent);
            }
        }
    }

    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (StoreVolume h : List.copyOf(volumes.values())) {
            try {
                h.handles = 1;
                release(h);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (lock != null) {
            lock.release();
            lockChannel.close();
            lock = null;
        }
        if (first != null) {
            throw first;
        }
    }
}
