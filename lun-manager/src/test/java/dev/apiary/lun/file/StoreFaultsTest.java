package dev.apiary.lun.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeFullException;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.VolumeStore.VolumeInfo;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input and faults: damaged store files (every damage is CORRUPT naming the volume, or the
 * store for the catalog; never wrong data), a full disk, and the refusals of the API (IN_USE with
 * the clones named, INVALID names, NOT_FOUND, ALREADY_EXISTS).
 */
class StoreFaultsTest {
    private static final int CS = 4096;
    private static final int CLUSTERS = 32;
    private static final long SIZE = (long) CS * CLUSTERS;

    @TempDir
    Path tmp;

    /** Where the damaged copies go: tmpfs if there is one (the sweeps open hundreds of stores; fsync is free there). */
    private Path scratch;
    private Path pristine;
    /** What each volume reads in the pristine store. */
    private final Map<String, byte[]> expected = new TreeMap<>();
    /** "work" as it reads when its journal's last record (cluster 13) is dropped. */
    private byte[] workWithoutLastRecord;
    private List<VolumeInfo> expectedList;
    private Catalog.Data catalog;
    private final AtomicInteger copies = new AtomicInteger();

    // ---------------------------------------------------------------- the fixture

    /**
     * base (raw; every 4th cluster zero) @gold -> work (clone; its top map is a new clone's body-less
     * "all absent" checkpoint and its journal holds 5 records, the last one for cluster 13 alone) @ws
     * -> work2 (clone of a clone, grown: its map is a checkpoint with a body, then 2 journal records).
     */
    @BeforeEach
    void buildPristineStore() throws IOException {
        Path shm = Path.of("/dev/shm");
        scratch = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "store-faults-") : Files.createDirectories(tmp.resolve("scratch"));
        pristine = scratch.resolve("pristine");
        Random rnd = new Random(42);
        try (FileStore store = FileStore.open(pristine, new FileStore.Options(CS, 1 << 20))) {
            store.create("base", SIZE);
            try (Volume base = store.open("base")) {
                for (int c = 0; c < CLUSTERS; c++) {
                    if (c % 4 != 0) {
                        base.write((long) c * CS, ByteBuffer.wrap(random(rnd, CS)), false);
                    }
                }
                base.flush();
            }
            store.snapshot("base", "gold");
            store.clone("base", "gold", "work");
            try (Volume work = store.open("work")) {
                work.write(CS, ByteBuffer.wrap(random(rnd, CS)), false);
                work.write(5L * CS + 100, ByteBuffer.wrap(random(rnd, 200)), false); // copies cluster 5 up
                work.unmap(2L * CS, CS);
                work.flush();
            }
            store.snapshot("work", "ws");
            store.clone("work", "ws", "work2");
            try (Volume work = store.open("work")) {
                work.write(3L * CS, ByteBuffer.wrap(random(rnd, CS)), false);
                work.write(7L * CS + 10, ByteBuffer.wrap(random(rnd, 10)), false);
                work.unmap(CS, CS);
                work.flush(); // records: 1 ZERO, 3 PRESENT, 7 PRESENT
                work.write(9L * CS, ByteBuffer.wrap(random(rnd, CS)), false);
                work.flush(); // record: 9 PRESENT
                workWithoutLastRecord = read(work);
                work.write(13L * CS, ByteBuffer.wrap(random(rnd, CS)), false);
                work.flush(); // record: 13 PRESENT, the last
            }
            try (Volume work2 = store.open("work2")) {
                work2.write(0, ByteBuffer.wrap(random(rnd, CS)), true);
                work2.resize(SIZE + 8 * CS); // a checkpoint: work2's map gets a body
                work2.write(SIZE + CS, ByteBuffer.wrap(random(rnd, CS)), false);
                work2.unmap(4L * CS, CS);
                work2.flush(); // and its journal records after that checkpoint
            }
            for (String v : List.of("base", "work", "work2")) {
                try (Volume h = store.open(v)) {
                    expected.put(v, read(h));
                }
            }
            expectedList = sorted(store.list());
        }
        assertThat(expected.get("work")).isNotEqualTo(workWithoutLastRecord);
        catalog = Catalog.read(pristine.resolve("catalog.json"));
        assertThat(Files.size(journal("work"))).as("work's journal: header and 5 records")
                .isEqualTo(24 + 5 * MapJournal.RECORD);
    }

    @AfterEach
    void removeScratch() throws IOException {
        if (scratch != null && !scratch.startsWith(tmp)) {
            try (Stream<Path> files = Files.walk(scratch)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static byte[] random(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static byte[] read(Volume v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) v.size());
        v.read(0, b);
        return b.array();
    }

    private static List<VolumeInfo> sorted(List<VolumeInfo> l) {
        List<VolumeInfo> s = new ArrayList<>(l);
        s.sort(Comparator.comparing(VolumeInfo::name));
        return s;
    }

    private String top(String volume) {
        return catalog.volumes().get(volume).top();
    }

    private Path layerFile(String layer, String ext) {
        return pristine.resolve("layers").resolve(layer + "." + ext);
    }

    private Path journal(String volume) {
        return layerFile(top(volume), "journal");
    }

    /** A fresh copy of the pristine store, and the same file in it. */
    private Path copy() throws IOException {
        Path to = scratch.resolve("copy-" + copies.incrementAndGet());
        try (Stream<Path> files = Files.walk(pristine)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(pristine.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        }
        return to;
    }

    private Path in(Path store, Path pristineFile) {
        return store.resolve(pristine.relativize(pristineFile).toString());
    }

    private static void flip(Path f, long at, int mask) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(at);
            int b = r.read();
            r.seek(at);
            r.write(b ^ mask);
        }
    }

    private static void truncate(Path f, long length) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(length);
        }
    }

    @FunctionalInterface
    private interface Damage {
        /** Checks one damage on a fresh copy; null if it was handled well, else what went wrong. */
        String check(int index) throws Exception;
    }

    /** Runs {@code count} independent damage checks (each on its own copy) on two threads. */
    private static List<String> sweep(int count, Damage d) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int index = i;
                results.add(pool.submit(() -> d.check(index)));
            }
            List<String> wrong = new ArrayList<>();
            for (Future<String> f : results) {
                try {
                    String w = f.get(60, TimeUnit.SECONDS);
                    if (w != null) {
                        wrong.add(w);
                    }
                } catch (ExecutionException e) {
                    throw new AssertionError(e.getCause());
                }
            }
            return wrong;
        } finally {
            pool.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- outcome of opening a damaged store

    private sealed interface Outcome permits Corrupt, Same, Wrong {}

    private record Corrupt(String message) implements Outcome {}

    private record Same() implements Outcome {}

    private record Wrong(String what) implements Outcome {}

    /**
     * Opens a (damaged) store and every volume: CORRUPT that names {@code volumes}' owner, the same
     * content as the pristine store, or wrong (anything else, including other exceptions).
     * {@code alsoAllowed} are other acceptable contents per volume (a dropped torn record).
     */
    private Outcome attempt(Path store, Map<String, byte[]> alsoAllowed, boolean probeWrites) {
        FileStore s;
        try {
            s = FileStore.open(store, new FileStore.Options(CS, 1 << 20));
        } catch (StoreException e) {
            if (e.reason == Reason.CORRUPT && e.getMessage().contains(store.toString())) {
                return new Corrupt(e.getMessage());
            }
            return new Wrong("FileStore.open threw " + e.reason + ": " + e.getMessage());
        } catch (Exception | Error e) {
            return new Wrong("FileStore.open threw " + e);
        }
        try (s) {
            for (String v : expected.keySet()) {
                byte[] got;
                try (Volume h = s.open(v)) {
                    got = read(h);
                } catch (StoreException e) {
                    if (e.reason == Reason.CORRUPT && e.getMessage().contains(v)) {
                        return new Corrupt(e.getMessage());
                    }
                    return new Wrong("open(" + v + ") threw " + e.reason + ": " + e.getMessage());
                }
                if (!Arrays.equals(got, expected.get(v))
                        && !(alsoAllowed.containsKey(v) && Arrays.equals(got, alsoAllowed.get(v)))) {
                    int at = Arrays.mismatch(got, expected.get(v));
                    return new Wrong(v + " opens and reads different data from byte " + at + " (cluster " + at / CS
                            + ")");
                }
            }
            List<VolumeInfo> list = sorted(s.list());
            if (!list.equals(expectedList)) {
                return new Wrong("the store opens with a different catalog: " + list);
            }
            if (probeWrites) {
                // New layers must not land on existing ones (a damaged nextLayer would reuse an id).
                s.create("probe", 8192);
                s.snapshot("work2", "probe-snap");
                s.clone("work2", "probe-snap", "probe-clone");
                for (String v : expected.keySet()) {
                    try (Volume h = s.open(v)) {
                        if (!Arrays.equals(read(h), expected.get(v))) {
                            return new Wrong(v + " changed when a new volume, snapshot and clone were made");
                        }
                    }
                }
            }
            return new Same();
        } catch (Exception | Error e) {
            return new Wrong("threw " + e);
        }
    }

    /** Opening {@code volume} in the damaged store fails with CORRUPT and a message naming it. */
    private static void assertCorruptNaming(Path store, String volume) throws IOException {
        try (FileStore s = FileStore.open(store, new FileStore.Options(CS, 1 << 20))) {
            assertThatThrownBy(() -> s.open(volume).close())
                    .as("opening %s with damaged files", volume)
                    .isInstanceOfSatisfying(StoreException.class, e -> {
                        assertThat(e.reason).as(e.getMessage()).isEqualTo(Reason.CORRUPT);
                        assertThat(e.getMessage()).as("the CORRUPT message names the volume").contains(volume);
                    });
        }
    }

    // ---------------------------------------------------------------- map checkpoint

    @Test
    void truncatedMapCheckpointIsCorrupt() throws IOException {
        for (String volume : List.of("work", "work2")) {
            Path map = layerFile(top(volume), "map");
            long len = Files.size(map);
            for (long to : new long[] {0, 7, 39, 47, 48, len - 1}) {
                if (to < len) {
                    Path s = copy();
                    truncate(in(s, map), to);
                    assertCorruptNaming(s, volume);
                }
            }
        }
        assertThat(Files.size(layerFile(top("work"), "map"))).as("a new clone's map: header only").isEqualTo(48);
        assertThat(Files.size(layerFile(top("work2"), "map"))).as("a checkpoint with a body").isGreaterThan(40);
        Path map = layerFile(top("work"), "map");
        // The sealed layer under work2 (snapshot work@ws) is an overlay too: both volumes use it.
        Path sealed = layerFile(catalog.volumes().get("work").snapshots().get("ws"), "map");
        Path s = copy();
        truncate(in(s, sealed), Files.size(sealed) - 3);
        assertCorruptNaming(s, "work2");
        Path s2 = copy();
        Files.delete(in(s2, map));
        assertCorruptNaming(s2, "work");
    }

    /** Every single-bit damage of a map checkpoint is refused, or changes nothing (unused padding). */
    @Test
    void everyBitFlipInAMapCheckpointIsCorruptOrHarmless() throws Exception {
        List<String> wrong = new ArrayList<>();
        for (String volume : List.of("work", "work2")) {
            Path map = layerFile(top(volume), "map");
            int[] masks = {0x01, 0x80};
            wrong.addAll(sweep((int) Files.size(map) * masks.length, i -> {
                long at = i / masks.length;
                int mask = masks[i % masks.length];
                Path s = copy();
                flip(in(s, map), at, mask);
                Outcome o = attempt(s, Map.of(), false);
                String where = String.format("%s %s (%d bytes) byte %d ^0x%02x", volume, map.getFileName(),
                        Files.size(map), at, mask);
                if (o instanceof Wrong w) {
                    return where + ": " + w.what();
                } else if (o instanceof Corrupt c && !c.message().contains(volume)) {
                    return where + ": CORRUPT without naming " + volume + ": " + c.message();
                }
                return null;
            }));
        }
        assertThat(wrong).as("damaged map checkpoints served silently (header: 8-15 generation, 20-27 cluster "
                + "count, 28-31 body length, 32-35 body CRC, 36-39 flags, 40-43 header CRC)").isEmpty();
    }

    // ---------------------------------------------------------------- journal

    @Test
    void corruptMiddleJournalRecordIsCorrupt() throws IOException {
        for (int record = 0; record < 4; record++) { // 4 of the 5 records have a valid one after them
            Path s = copy();
            flip(in(s, journal("work")), 24 + record * MapJournal.RECORD + 3, 0x40);
            assertCorruptNaming(s, "work");
        }
    }

    @Test
    void tornLastJournalRecordIsDroppedSilently() throws IOException {
        long len = Files.size(journal("work"));
        for (long cut : new long[] {1, 5, 12, 20, 23}) {
            Path s = copy();
            truncate(in(s, journal("work")), len - cut);
            try (FileStore store = FileStore.open(s, new FileStore.Options(CS, 1 << 20));
                    Volume w = store.open("work")) {
                assertThat(read(w)).as("work with its last record torn (%d bytes cut): the four records before "
                        + "it stand, the torn one is gone", cut).isEqualTo(workWithoutLastRecord);
            }
            // ... and the store keeps working on top of it.
            try (FileStore store = FileStore.open(s, new FileStore.Options(CS, 1 << 20));
                    Volume w = store.open("work")) {
                assertThat(read(w)).isEqualTo(workWithoutLastRecord);
                w.write(20L * CS, ByteBuffer.wrap(new byte[] {1, 2, 3}), true);
            }
            try (FileStore store = FileStore.open(s, new FileStore.Options(CS, 1 << 20));
                    Volume w = store.open("work")) {
                byte[] want = workWithoutLastRecord.clone();
                want[20 * CS] = 1;
                want[20 * CS + 1] = 2;
                want[20 * CS + 2] = 3;
                assertThat(read(w)).as("a write after recovering from a torn record").isEqualTo(want);
            }
        }
    }

    @Test
    void corruptLastJournalRecordIsDroppedLikeATornOne() throws IOException {
        for (int at = 0; at < MapJournal.RECORD; at += 5) {
            Path s = copy();
            flip(in(s, journal("work")), 24 + 4 * MapJournal.RECORD + at, 0x10);
            Outcome o = attempt(s, Map.of("work", workWithoutLastRecord), false);
            assertThat(o).as("last record damaged at +%d", at).isNotInstanceOf(Wrong.class);
        }
    }

    /**
     * A journal header that fails its checksum while records follow it is damage, not a crash: a
     * crash can only tear the header of an empty journal (it is written and synced before any record).
     */
    @Test
    void corruptJournalHeaderWithRecordsAfterItIsCorrupt() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (int at = 0; at < 24; at++) {
            Path s = copy();
            flip(in(s, journal("work")), at, 0x01);
            Outcome o = attempt(s, Map.of(), false);
            if (!(o instanceof Corrupt)) {
                wrong.add("header byte " + at + ": " + o);
            }
        }
        assertThat(wrong).as("damaged journal headers of work whose 5 records were dropped without an error").isEmpty();
    }

    /** Every single-bit damage in a journal record: CORRUPT, or (in the last record only) that record dropped. */
    @Test
    void everyBitFlipInAJournalRecordIsCorruptOrADroppedLastRecord() throws Exception {
        Path j = journal("work");
        long len = Files.size(j);
        int[] masks = {0x01, 0x80};
        List<String> wrong = sweep((int) (len - 24) * masks.length, i -> {
            long at = 24 + i / masks.length;
            int mask = masks[i % masks.length];
            boolean lastRecord = at >= len - MapJournal.RECORD;
            Path s = copy();
            flip(in(s, j), at, mask);
            Outcome o = attempt(s, lastRecord ? Map.of("work", workWithoutLastRecord) : Map.of(), false);
            return o instanceof Wrong w ? String.format("byte %d ^0x%02x (record %d): %s", at, mask,
                    (at - 24) / MapJournal.RECORD, w.what()) : null;
        });
        assertThat(wrong).as("damaged journal %s of work served silently", j.getFileName()).isEmpty();
    }

    // ---------------------------------------------------------------- data files

    @Test
    void truncatedDataFileIsCorrupt() throws IOException {
        Path s = copy();
        truncate(in(s, layerFile(top("work"), "data")), SIZE - 1);
        assertCorruptNaming(s, "work");

        Path s2 = copy();
        truncate(in(s2, layerFile(top("work2"), "data")), 0);
        assertCorruptNaming(s2, "work2");

        // The base's raw layer is under every volume: each open fails and names the volume it was asked for.
        Path s3 = copy();
        String baseLayer = catalog.volumes().get("base").snapshots().get("gold");
        truncate(in(s3, layerFile(baseLayer, "data")), SIZE / 2);
        try (FileStore store = FileStore.open(s3, new FileStore.Options(CS, 1 << 20))) {
            for (String v : List.of("work", "work2")) {
                assertThatThrownBy(() -> store.open(v).close())
                        .isInstanceOfSatisfying(StoreException.class, e -> {
                            assertThat(e.reason).isEqualTo(Reason.CORRUPT);
                            assertThat(e.getMessage()).contains(v);
                        });
            }
        }
        Path s4 = copy();
        Files.delete(in(s4, layerFile(top("base"), "data")));
        assertCorruptNaming(s4, "base");
    }

    // ---------------------------------------------------------------- catalog

    @Test
    void truncatedCatalogIsCorruptAndNamesTheStore() throws IOException {
        Path cat = pristine.resolve("catalog.json");
        long len = Files.size(cat);
        for (long to : new long[] {0, 1, 10, len / 2, len - 2}) {
            Path s = copy();
            truncate(in(s, cat), to);
            assertThatThrownBy(() -> FileStore.open(s, new FileStore.Options(CS, 1 << 20)).close())
                    .as("catalog truncated to %d of %d bytes", to, len)
                    .isInstanceOfSatisfying(StoreException.class, e -> {
                        assertThat(e.reason).isEqualTo(Reason.CORRUPT);
                        assertThat(e.getMessage()).contains(s.toString());
                    });
        }
        Path s = copy();
        Files.writeString(in(s, cat), "{\"format\": 1, \"clusterSize\": 4096, \"nextLayer\": \"x\"}");
        assertThat(attempt(s, Map.of(), false)).isInstanceOf(Corrupt.class);
        Path s2 = copy();
        Files.writeString(in(s2, cat), "[]");
        assertThat(attempt(s2, Map.of(), false)).isInstanceOf(Corrupt.class);
    }

    /**
     * Every single-bit damage of catalog.json must be refused as CORRUPT or change nothing at all
     * (same volumes, snapshots, links and data, and new layers that do not land on old ones).
     */
    @Test
    void everyBitFlipInTheCatalogIsCorruptOrHarmless() throws Exception {
        Path cat = pristine.resolve("catalog.json");
        byte[] text = Files.readAllBytes(cat);
        List<Integer> positions = new ArrayList<>();
        for (int at = 0; at < text.length; at++) {
            if (!(Character.isWhitespace(text[at]) && at > 0 && Character.isWhitespace(text[at - 1]))) {
                positions.add(at); // indentation: only the first blank of a run
            }
        }
        List<String> wrong = sweep(positions.size(), i -> {
            int at = positions.get(i);
            Path s = copy();
            flip(in(s, cat), at, 0x01);
            if (attempt(s, Map.of(), true) instanceof Wrong w) {
                String effect = w.what().replaceAll("\\d+", "N");
                effect = effect.length() > 90 ? effect.substring(0, 90) + "..." : effect;
                return effect + "\u0000" + context(text, at);
            }
            return null;
        });
        Map<String, List<String>> wrongByEffect = new LinkedHashMap<>();
        for (String w : wrong) {
            String[] parts = w.split("\u0000");
            wrongByEffect.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(parts[1]);
        }
        if (!wrongByEffect.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (var e : wrongByEffect.entrySet()) {
                sb.append(String.format("%n  %s  (%d flips, e.g. %s)", e.getKey(), e.getValue().size(),
                        String.join(", ", e.getValue().subList(0, Math.min(4, e.getValue().size())))));
            }
            fail("%d of %d single-bit flips of catalog.json were not refused as CORRUPT but served (or crashed "
                    + "with something other than a StoreException):%s", wrong.size(), positions.size(), sb);
        }
    }

    private static String context(byte[] text, int at) {
        int from = Math.max(0, at - 12);
        int to = Math.min(text.length, at + 6);
        byte[] after = Arrays.copyOfRange(text, from, to);
        after[at - from] ^= 0x01;
        String before = new String(text, from, to - from, StandardCharsets.ISO_8859_1).replaceAll("\\s+", " ");
        return "'" + before + "'->'" + new String(after, StandardCharsets.ISO_8859_1).replaceAll("\\s+", " ") + "'";
    }

    /**
     * A damaged catalog may be refused, but opening with it must not destroy what it fails to name:
     * once the good catalog is back, every volume is there.
     */
    @Test
    void openingWithADamagedCatalogDeletesNoLayerFiles() throws IOException {
        Path s = copy();
        Path cat = s.resolve("catalog.json");
        byte[] good = Files.readAllBytes(cat);
        String baseLayer = catalog.volumes().get("base").snapshots().get("gold");
        String text = new String(good, StandardCharsets.UTF_8);
        // The base layer's own entry under "layers" gets another name: a one-character damage.
        int at = text.indexOf("\"" + baseLayer + "\"", text.indexOf("\"layers\""));
        assertThat(at).isPositive();
        String damaged = text.substring(0, at + 1) + "X" + text.substring(at + 2);
        Files.writeString(cat, damaged);
        Outcome o = attempt(s, Map.of(), false);
        assertThat(o).as("a catalog whose volumes name a layer it does not list").isInstanceOf(Corrupt.class);
        Files.write(cat, good);
        assertThat(attempt(s, Map.of(), false))
                .as("the store with its good catalog back (layer %s's files must not have been deleted as orphans)",
                        baseLayer)
                .isInstanceOf(Same.class);
    }

    // ---------------------------------------------------------------- refusals

    @Test
    void deleteAndDeleteSnapshotAreRefusedWhileClonesDependAndNameThem() throws IOException {
        try (FileStore store = FileStore.open(tmp.resolve("refusals"), new FileStore.Options(CS, 0))) {
            store.create("base", SIZE);
            store.snapshot("base", "s1");
            store.snapshot("base", "s2");
            store.clone("base", "s1", "c1");
            store.clone("base", "s1", "c2");
            store.clone("base", "s2", "c3");
            store.snapshot("c3", "t");
            store.clone("c3", "t", "d1");

            StoreException e = storeException(() -> store.delete("base"));
            assertThat(e.reason).isEqualTo(Reason.IN_USE);
            assertThat(e.getMessage()).contains("base", "c1", "c2", "c3");

            e = storeException(() -> store.deleteSnapshot("base", "s1"));
            assertThat(e.reason).isEqualTo(Reason.IN_USE);
            assertThat(e.getMessage()).contains("base", "s1", "c1", "c2").doesNotContain("c3");

            e = storeException(() -> store.delete("c3"));
            assertThat(e.reason).isEqualTo(Reason.IN_USE);
            assertThat(e.getMessage()).contains("c3", "d1");
            e = storeException(() -> store.deleteSnapshot("c3", "t"));
            assertThat(e.reason).isEqualTo(Reason.IN_USE);
            assertThat(e.getMessage()).contains("d1");

            // An open volume cannot be deleted either.
            try (Volume c1 = store.open("c1")) {
                e = storeException(() -> store.delete("c1"));
                assertThat(e.reason).isEqualTo(Reason.IN_USE);
                assertThat(e.getMessage()).contains("c1");
                assertThat(c1.size()).isEqualTo(SIZE);
            }

            // As dependents go away, the refusal names only the ones left, then the delete goes through.
            store.delete("c1");
            e = storeException(() -> store.deleteSnapshot("base", "s1"));
            assertThat(e.getMessage()).contains("c2").doesNotContain("c1");
            store.flatten("c2", VolumeStore.Progress.NONE);
            store.deleteSnapshot("base", "s1");
            assertThat(store.info("base").orElseThrow().snapshots()).extracting(VolumeStore.SnapshotInfo::name)
                    .containsExactly("s2");
            store.delete("d1");
            store.deleteSnapshot("c3", "t");
            store.delete("c3");
            store.deleteSnapshot("base", "s2");
            store.delete("base");
            assertThat(store.list()).extracting(VolumeInfo::name).containsExactly("c2");
        }
    }

    @Test
    void invalidNamesAreRefused() throws IOException {
        Path raw = tmp.resolve("img.raw");
        Files.write(raw, new byte[] {1, 2, 3, 4});
        try (FileStore store = FileStore.open(tmp.resolve("names"), new FileStore.Options(CS, 0))) {
            store.create("v", SIZE);
            store.snapshot("v", "s");
            List<String> bad = new ArrayList<>(List.of("", "/", "..", ".", "a/b", "../v", "x".repeat(65), "a b",
                    "tab\t", "nul\0", "é"));
            bad.add(null);
            for (String n : bad) {
                String shown = String.valueOf(n);
                assertReason(Reason.INVALID, () -> store.create(n, SIZE), "create '" + shown + "'");
                assertReason(Reason.INVALID, () -> store.importRaw(n, raw, VolumeStore.Progress.NONE),
                        "importRaw '" + shown + "'");
                assertReason(Reason.INVALID, () -> store.snapshot("v", n), "snapshot 'v@" + shown + "'");
                assertReason(Reason.INVALID, () -> store.clone("v", "s", n), "clone to '" + shown + "'");
            }
            // The edges of what is valid.
            String longest = "a".repeat(64);
            store.create(longest, CS);
            store.snapshot(longest, "x.y_z-1");
            store.clone(longest, "x.y_z-1", "A_b.c-9");
            assertThat(store.list()).extracting(VolumeInfo::name).contains(longest, "A_b.c-9");
        }
    }

    @Test
    void notFoundAndAlreadyExists() throws IOException {
        Path raw = tmp.resolve("img.raw");
        Files.write(raw, new byte[] {1, 2, 3, 4});
        Path empty = tmp.resolve("empty.raw");
        Files.write(empty, new byte[0]);
        try (FileStore store = FileStore.open(tmp.resolve("nf"), new FileStore.Options(CS, 0))) {
            store.create("v", SIZE);
            store.snapshot("v", "s");
            store.clone("v", "s", "c");

            VolumeStore.Progress p = VolumeStore.Progress.NONE;
            {
                assertReason(Reason.NOT_FOUND, () -> store.open("nope"), "open");
                assertReason(Reason.NOT_FOUND, () -> store.delete("nope"), "delete");
                assertReason(Reason.NOT_FOUND, () -> store.resize("nope", SIZE * 2), "resize");
                assertReason(Reason.NOT_FOUND, () -> store.flatten("nope", p), "flatten");
                assertReason(Reason.NOT_FOUND, () -> store.usage("nope"), "usage");
                assertReason(Reason.NOT_FOUND, () -> store.snapshot("nope", "s"), "snapshot of a missing volume");
                assertReason(Reason.NOT_FOUND, () -> store.clone("nope", "s", "x"), "clone of a missing volume");
                assertReason(Reason.NOT_FOUND, () -> store.clone("v", "nope", "x"), "clone of a missing snapshot");
                assertReason(Reason.NOT_FOUND, () -> store.deleteSnapshot("v", "nope"), "deleteSnapshot");
                assertReason(Reason.NOT_FOUND, () -> store.deleteSnapshot("nope", "s"), "deleteSnapshot");
                assertThat(store.info("nope")).isEmpty();

                assertReason(Reason.ALREADY_EXISTS, () -> store.create("v", SIZE), "create");
                assertReason(Reason.ALREADY_EXISTS, () -> store.create("c", SIZE), "create over a clone");
                assertReason(Reason.ALREADY_EXISTS, () -> store.importRaw("v", raw, p), "importRaw");
                assertReason(Reason.ALREADY_EXISTS, () -> store.snapshot("v", "s"), "snapshot");
                assertReason(Reason.ALREADY_EXISTS, () -> store.clone("v", "s", "c"), "clone");
                assertReason(Reason.ALREADY_EXISTS, () -> store.clone("v", "s", "v"), "clone over its parent");

                assertReason(Reason.INVALID, () -> store.create("z", 0), "create of size 0");
                assertReason(Reason.INVALID, () -> store.create("z", -4096), "create of negative size");
                assertReason(Reason.INVALID, () -> store.importRaw("z", empty, p), "import of an empty file");
                assertReason(Reason.INVALID, () -> store.resize("v", SIZE - 1), "shrink");
                assertReason(Reason.INVALID, () -> store.flatten("v", p), "flatten of a non-clone");
                store.snapshot("c", "cs");
                assertReason(Reason.INVALID, () -> store.flatten("c", p), "flatten of a clone with snapshots");
            }
            assertThat(sorted(store.list())).extracting(VolumeInfo::name).containsExactly("c", "v");
        }
        assertReason(Reason.INVALID, () -> FileStore.open(tmp.resolve("cs"), new FileStore.Options(1000, 0)),
                "a cluster size that is not a power of two");
        assertReason(Reason.INVALID, () -> FileStore.open(tmp.resolve("cs2"), new FileStore.Options(256, 0)),
                "a cluster size below 512");
    }

    /** Lookups with a null name (an API request with the field missing) are refused, not a NullPointerException. */
    @Test
    void nullNamesInLookupsAreStoreExceptionsNotNullPointers() throws IOException {
        try (FileStore store = FileStore.open(tmp.resolve("nulls"), new FileStore.Options(CS, 0))) {
            store.create("v", SIZE);
            store.snapshot("v", "s");
            List<String> npe = new ArrayList<>();
            Map<String, Call> calls = new LinkedHashMap<>();
            calls.put("open(null)", () -> store.open((String) null));
            calls.put("delete(null)", () -> store.delete(null));
            calls.put("resize(null)", () -> store.resize(null, SIZE * 2));
            calls.put("usage(null)", () -> store.usage(null));
            calls.put("snapshot(null, s)", () -> store.snapshot(null, "s2"));
            calls.put("clone(null, s, x)", () -> store.clone(null, "s", "x"));
            calls.put("clone(v, null, x)", () -> store.clone("v", null, "x"));
            calls.put("deleteSnapshot(null, s)", () -> store.deleteSnapshot(null, "s"));
            calls.put("flatten(null)", () -> store.flatten(null, VolumeStore.Progress.NONE));
            calls.put("info(null)", () -> store.info(null));
            for (var c : calls.entrySet()) {
                try {
                    c.getValue().run();
                    if (!c.getKey().startsWith("info")) {
                        npe.add(c.getKey() + " succeeded");
                    }
                } catch (StoreException e) {
                    // INVALID or NOT_FOUND: either says what is wrong
                } catch (Exception e) {
                    npe.add(c.getKey() + " threw " + e);
                }
            }
            assertThat(npe).isEmpty();
        }
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    private static StoreException storeException(Call c) {
        try {
            c.run();
        } catch (StoreException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected a StoreException, got " + e, e);
        }
        throw new AssertionError("expected a StoreException; the call succeeded");
    }

    private static void assertReason(Reason r, Call c, String what) {
        StoreException e;
        try {
            e = storeException(c);
        } catch (AssertionError a) {
            throw new AssertionError(what + ": " + a.getMessage(), a);
        }
        assertThat(e.reason).as("%s: %s", what, e.getMessage()).isEqualTo(r);
    }

    // ---------------------------------------------------------------- concurrency

    /**
     * A resize while another thread's flush is folding the journal into a checkpoint. grow() holds
     * the layer's barrier and then waits for the flush lock; the flush holds the flush lock and then
     * wants the barrier for its compaction: neither may wait for the other forever. The journal is
     * crafted to sit just under the compaction threshold, and the flush is made slow (16 MiB of dirty
     * data to sync) so the resize lands inside it.
     */
    @Test
    void aResizeDuringAFlushThatCompactsTheJournalDoesNotDeadlock() throws Exception {
        int cs = 4096;
        long size = 32L << 20;
        int clusters = (int) (size / cs);
        for (int attempt = 0; attempt < 3; attempt++) {
            Path dir = tmp.resolve("deadlock-" + attempt);
            try (FileStore store = FileStore.open(dir, new FileStore.Options(cs, 0))) {
                store.create("base", size);
                store.snapshot("base", "s");
                store.clone("base", "s", "c");
            }
            // Records that replay harmlessly (the last cluster, which nothing writes, reads zeros either way).
            Path journal = dir.resolve("layers").resolve(Catalog.read(dir.resolve("catalog.json")).volumes()
                    .get("c").top() + ".journal");
            long records = (MapJournal.COMPACT_AT - (48 << 10) - Files.size(journal)) / MapJournal.RECORD;
            ByteBuffer b = ByteBuffer.allocate((int) records * MapJournal.RECORD);
            for (long r = 0; r < records; r++) {
                int at = b.position();
                b.putLong(clusters - 1).putLong(1).putInt(2);
                b.putInt(MapJournal.crc(b.array(), at, 20));
            }
            Files.write(journal, b.array(), java.nio.file.StandardOpenOption.APPEND);

            FileStore store = FileStore.open(dir, new FileStore.Options(cs, 0));
            Volume c = store.open("c");
            byte[] data = new byte[cs];
            new Random(attempt).nextBytes(data);
            for (int k = 0; k < clusters - 1; k += 2) { // every other cluster: 4096 records, past the threshold
                c.write((long) k * cs, ByteBuffer.wrap(data), false);
            }
            Throwable[] failures = new Throwable[2];
            Thread flusher = new Thread(() -> {
                try {
                    c.flush();
                } catch (Throwable t) {
                    failures[0] = t;
                }
            }, "flush-that-compacts");
            Thread resizer = new Thread(() -> {
                try {
                    store.resize("c", size + (1 << 20));
                } catch (Throwable t) {
                    failures[1] = t;
                }
            }, "resize");
            flusher.setDaemon(true);
            resizer.setDaemon(true);
            flusher.start();
            Thread.sleep(2); // the flush has taken its lock and is syncing 16 MiB
            resizer.start();
            long deadline = System.currentTimeMillis() + 5_000; // both take well under a second when all is well
            flusher.join(Math.max(1, deadline - System.currentTimeMillis()));
            resizer.join(Math.max(1, deadline - System.currentTimeMillis()));
            if (flusher.isAlive() || resizer.isAlive()) {
                fail("deadlock (attempt %d): flush thread %s, resize thread %s; OverlayLayer.grow takes the "
                                + "barrier then the flush lock, OverlayLayer.flush takes the flush lock then the barrier "
                                + "to compact%n  flush at %s%n  resize at %s", attempt, flusher.getState(),
                        resizer.getState(), Arrays.toString(flusher.getStackTrace()).replace(", ", "\n      "),
                        Arrays.toString(resizer.getStackTrace()).replace(", ", "\n      "));
            }
            assertThat(failures).containsOnlyNulls();
            c.close();
            store.close();
            try (FileStore again = FileStore.open(dir, new FileStore.Options(cs, 0)); Volume h = again.open("c")) {
                assertThat(h.size()).isEqualTo(size + (1 << 20));
                assertThat(readRange(h, 2L * cs, cs)).isEqualTo(data);
                assertThat(readRange(h, 3L * cs, cs)).containsOnly(0);
            }
        }
    }

    // ---------------------------------------------------------------- full disk

    /** A 2 MiB tmpfs under the test's directory, or the test is skipped (needs root). */
    private Path mountSmallTmpfs(String name) throws Exception {
        Path mnt = tmp.resolve(name);
        Files.createDirectories(mnt);
        int rc;
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt.toString())
                    .redirectErrorStream(true).start();
            rc = p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            rc = -1;
        }
        Assumptions.assumeTrue(rc == 0, "cannot mount a tmpfs (not root?): full-disk tests skipped");
        return mnt;
    }

    private static void umount(Path mnt) throws Exception {
        Process p = new ProcessBuilder("umount", mnt.toString()).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor(30, TimeUnit.SECONDS);
            fail("umount %s failed (a file of the store still open?): %s", mnt, out);
        }
    }

    /** Writes {@code chunk}-byte pieces from {@code from} until the volume reports it is full. */
    private static VolumeFullException fillUntilFull(Volume v, long from, int chunk, Random rnd) throws IOException {
        for (long off = from; off + chunk <= v.size(); off += chunk) {
            try {
                v.write(off, ByteBuffer.wrap(random(rnd, chunk)), false);
            } catch (VolumeFullException e) {
                return e;
            }
        }
        return null;
    }

    @Test
    void fullDiskFailsTheWriteWithVolumeFullAndKeepsWhatWasFlushed() throws Exception {
        Path mnt = mountSmallTmpfs("full");
        try {
            Path dir = mnt.resolve("store");
            Random rnd = new Random(7);
            byte[] rawFlushed = random(rnd, 256 << 10);
            byte[] cloneFlushed = random(rnd, 100_000);
            byte[] golden = random(rnd, 64 << 10);
            try (FileStore store = FileStore.open(dir, new FileStore.Options(CS, 1 << 20))) {
                store.create("raw", 16 << 20);
                store.create("gold", 16 << 20);
                try (Volume g = store.open("gold")) {
                    g.write(0, ByteBuffer.wrap(golden), true);
                }
                store.snapshot("gold", "s");
                store.clone("gold", "s", "clone");
                Volume raw = store.open("raw");
                Volume clone = store.open("clone");
                raw.write(0, ByteBuffer.wrap(rawFlushed), false);
                raw.flush();
                clone.write(1000, ByteBuffer.wrap(cloneFlushed), false); // unaligned: copies clusters up
                clone.flush();

                VolumeFullException full = fillUntilFull(raw, rawFlushed.length, 64 << 10, rnd);
                assertThat(full).as("writing 16 MiB into a 2 MiB file system ends in VolumeFullException").isNotNull();
                assertThat(full.getMessage()).isNotBlank();
                // The clone, with a partial write into a cluster it does not hold yet (a copy-up), is full too.
                IOException cloneFull = null;
                for (long off = 200_000; off < (8 << 20) && cloneFull == null; off += 3 * CS + 17) {
                    try {
                        clone.write(off, ByteBuffer.wrap(random(rnd, 100)), false);
                    } catch (IOException e) {
                        cloneFull = e;
                    }
                }
                assertThat(cloneFull).as("a clone's copy-up on a full disk").isInstanceOf(VolumeFullException.class);

                // Everything flushed before still reads back, now ...
                assertThat(readRange(raw, 0, rawFlushed.length)).isEqualTo(rawFlushed);
                assertThat(readRange(clone, 1000, cloneFlushed.length)).isEqualTo(cloneFlushed);
                assertThat(readRange(clone, 0, 1000)).isEqualTo(Arrays.copyOfRange(golden, 0, 1000));
                // ... and space given back (an unmap punches holes) makes writes work again.
                raw.unmap(rawFlushed.length, (16 << 20) - rawFlushed.length);
                raw.write(rawFlushed.length, ByteBuffer.wrap(new byte[] {9}), true);
                raw.close();
                try {
                    clone.close();
                } catch (IOException e) {
                    fail("closing the clone after space was freed failed: " + e, e);
                }
            }
            // ... and after reopening.
            try (FileStore store = FileStore.open(dir, new FileStore.Options(CS, 1 << 20));
                    Volume raw = store.open("raw");
                    Volume clone = store.open("clone")) {
                assertThat(readRange(raw, 0, rawFlushed.length)).isEqualTo(rawFlushed);
                assertThat(readRange(raw, rawFlushed.length, 1)).containsExactly(9);
                assertThat(readRange(clone, 1000, cloneFlushed.length)).isEqualTo(cloneFlushed);
                assertThat(readRange(clone, 0, 1000)).isEqualTo(Arrays.copyOfRange(golden, 0, 1000));
            }
        } finally {
            umount(mnt);
        }
    }

    /**
     * A flush that fails on a full disk (its journal append gets ENOSPC) must not forget the map
     * entries it took: once space is back, the next flush that succeeds has to make those writes
     * durable. The journal is brought to 169 records (4080 bytes), so the next record needs a new
     * page while the data cluster written needs none.
     */
    @Test
    void aFlushThatFailsOnAFullDiskKeepsItsWritesForTheNextFlush() throws Exception {
        Path mnt = mountSmallTmpfs("fullflush");
        try {
            Path dir = mnt.resolve("store");
            int cs = 512;
            byte[] mine = new byte[cs];
            Arrays.fill(mine, (byte) 0x5A);
            try (FileStore store = FileStore.open(dir, new FileStore.Options(cs, 0))) {
                store.create("base", 1 << 20);
                store.snapshot("base", "s");
                store.clone("base", "s", "c");
                store.create("filler", 4 << 20);
                Path journal = dir.resolve("layers").resolve(Catalog.read(dir.resolve("catalog.json")).volumes()
                        .get("c").top() + ".journal");
                try (Volume c = store.open("c"); Volume filler = store.open("filler")) {
                    for (int k = 0; k < 169; k++) { // one record per flush
                        c.write((long) k * cs, ByteBuffer.wrap(new byte[] {(byte) k}), false);
                        c.flush();
                    }
                    assertThat(Files.size(journal)).isEqualTo(4080);
                    Random rnd = new Random(3);
                    assertThat(fillUntilFull(filler, 0, 64 << 10, rnd)).isNotNull();
                    // Again page by page: the failed 64 KiB write may have left a few pages free.
                    assertThat(fillUntilFull(filler, 0, 4096, rnd)).isNotNull();
                    // Cluster 169 shares a page with cluster 168: the write needs no new page and succeeds.
                    c.write(169L * cs, ByteBuffer.wrap(mine), false);
                    IOException failed = null;
                    try {
                        c.flush(); // the journal needs a new page: ENOSPC
                    } catch (IOException e) {
                        failed = e;
                    }
                    Assumptions.assumeTrue(failed != null, "the flush found space for its journal record");
                    filler.unmap(0, filler.size()); // space comes back
                    c.flush(); // must now make the write to cluster 169 durable
                }
            }
            try (FileStore store = FileStore.open(dir, new FileStore.Options(cs, 0)); Volume c = store.open("c")) {
                byte[] got = readRange(c, 169L * cs, cs);
                if (!Arrays.equals(got, mine)) {
                    fail("cluster 169 of the clone was written (0x5A), then flushed: the first flush failed with "
                            + "ENOSPC, the second succeeded; after reopening it reads %s instead of 0x5A: the "
                            + "failed flush dropped the cluster's map entry", got[0] == 0 ? "zeros (the parent)"
                            : String.format("0x%02x...", got[0]));
                }
            }
        } finally {
            umount(mnt);
        }
    }

    private static byte[] readRange(Volume v, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        v.read(off, b);
        return b.array();
    }
}
