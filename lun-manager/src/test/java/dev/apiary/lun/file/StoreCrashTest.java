package dev.apiary.lun.file;

import static dev.apiary.lun.file.CrashWriter.BASE;
import static dev.apiary.lun.file.CrashWriter.BLOCK;
import static dev.apiary.lun.file.CrashWriter.SECTOR;
import static dev.apiary.lun.file.CrashWriter.SECTORS;
import static dev.apiary.lun.file.CrashWriter.SNAPSHOT;
import static dev.apiary.lun.file.CrashWriter.VOLUME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash consistency of {@link FileStore} under SIGKILL. A child JVM ({@link CrashWriter}) writes,
 * unmaps and flushes a clone of a snapshot from three threads and reports what is durable; the
 * test kills it at a random moment, reopens the store in-process and checks that every durable
 * write reads back (or a later version of it), that nothing reads as garbage or as a version older
 * than what was durable, that what recovery showed stays (no lost write reappears later), and that
 * the parent snapshot is untouched. After each recovery a copy of the store is flattened, which must
 * not change the clone's data. The store is reused across kills, so recovering a recovered store is
 * exercised too. The child's stdout goes to a file, so nothing it announced is lost to the kill.
 *
 * <p>The other tests make the same crash image deterministically: copying a store's files while it
 * is open gives exactly what SIGKILL leaves (the kernel's page cache, none of the JVM's memory).
 *
 * <p>{@code -Dstore.crash.kills=N} and {@code -Dstore.crash.seed=S} to run longer or replay the
 * child's choice of operations (the kill moments are not reproducible); {@code
 * -Dstore.crash.keepOutput=DIR} keeps each child's stdout there.
 */
class StoreCrashTest {
    private static final int BLOCKS = 256;
    private static final int CLUSTER = 1024; // a block is 4 clusters; a sector is half a cluster
    private static final int THREADS = 3;
    private static final long ZERO = -1;
    private static final long GARBAGE = -2;
    private static final long NONE = Long.MIN_VALUE;

    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- SIGKILL

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void sigkillLosesNoDurableWriteAndServesNoGarbage() throws Exception {
        int kills = Integer.getInteger("store.crash.kills", 50);
        long seed = Long.getLong("store.crash.seed", 20240611L);
        Path dir = tmp.resolve("store");
        setUpStore(dir);
        long[] baseline = new long[BLOCKS * SECTORS]; // what each sector read after the last recovery
        for (int b = 0; b < BLOCKS; b++) {
            Arrays.fill(baseline, b * SECTORS, (b + 1) * SECTORS, CrashWriter.parentZero(b) ? ZERO : 0);
        }
        Random rnd = new Random(seed);
        Stats stats = new Stats();
        Map<String, List<String>> problems = new java.util.TreeMap<>(); // kind of problem -> examples
        long started = System.nanoTime();
        int early = Math.max(1, kills / 10); // a few kills land anywhere, opening and replay included
        for (int i = 0; i < kills + early; i++) {
            if (i == 3 || i == 30) {
                stats.compactionsArranged += padJournal(dir, i, baseline) ? 1 : 0;
            }
            boolean anywhere = i % 11 == 10;
            long delay = anywhere ? rnd.nextInt(700) : 50 + rnd.nextInt(351);
            Child c = runAndKill(dir, i, seed + i, (i + 1L) << 32, delay, !anywhere);
            stats.kills += c.killed ? 1 : 0;
            stats.ops += c.issued.size();
            verifyAfterCrash(dir, i, (i + 1L) << 32, c, baseline, stats, problems);
            flattenACopy(dir, i, problems);
        }
        String top = Catalog.read(dir.resolve("catalog.json")).volumes().get(VOLUME).top();
        System.out.printf("StoreCrashTest: %d runs, %d killed, %d ops issued, %d durable sector claims "
                        + "(%d read exactly the durable version, %d a later one), %d sectors checked, %.1f s; "
                        + "the clone's map checkpoint is %d bytes (40 = never compacted), its journal %d bytes; "
                        + "%d compactions under load arranged%n",
                kills + early, stats.kills, stats.ops, stats.durableSectors, stats.exact, stats.later,
                stats.sectorsChecked, (System.nanoTime() - started) / 1e9,
                Files.size(dir.resolve("layers").resolve(top + ".map")),
                Files.size(dir.resolve("layers").resolve(top + ".journal")), stats.compactionsArranged);
        assertThat(stats.kills).as("children killed (the issue asks for at least 50)").isGreaterThanOrEqualTo(kills);
        assertThat(stats.durableSectors).as("durable claims checked").isPositive();

        // Flatten after all those recoveries: the clone's data must not change.
        try (FileStore store = FileStore.open(dir, new FileStore.Options(CLUSTER, 1 << 20))) {
            byte[] before = readVolume(store, VOLUME);
            store.flatten(VOLUME, VolumeStore.Progress.NONE);
            byte[] after = readVolume(store, VOLUME);
            for (int off = 0; off < before.length; off += SECTOR) {
                if (!Arrays.equals(before, off, off + SECTOR, after, off, off + SECTOR)) {
                    long block = off / BLOCK;
                    int sector = (off % BLOCK) / SECTOR;
                    problems.computeIfAbsent("FLATTEN CHANGED DATA (after the last recovery)", k -> new ArrayList<>())
                            .add(String.format("block %d sector %d (cluster %d): read %s before flatten, %s after",
                                    block, sector, off / CLUSTER, describe(decode(before, off, block, sector)),
                                    describe(decode(after, off, block, sector))));
                }
            }
        }
        if (!problems.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            problems.forEach((kind, l) -> sb.append(String.format("%n%s: %d sectors, e.g.%n    %s", kind, l.size(),
                    String.join("\n    ", l.subList(0, Math.min(5, l.size()))))));
            fail("wrong data after SIGKILL and recovery (%d runs):%s", kills + early, sb);
        }
    }

    /**
     * Flattens a copy of the recovered store (the store itself goes on being written): a flatten must
     * not change what the clone reads, so whatever the map hides must really be gone from the data file.
     */
    private void flattenACopy(Path dir, int iteration, Map<String, List<String>> problems) throws IOException {
        Path shm = Path.of("/dev/shm");
        Path copy = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "store-crash-") : Files.createTempDirectory(tmp, "flatten-");
        try {
            crashImage(dir, copy.resolve("store"));
            try (FileStore store = FileStore.open(copy.resolve("store"), new FileStore.Options(CLUSTER, 1 << 20))) {
                byte[] before = readVolume(store, VOLUME);
                store.flatten(VOLUME, VolumeStore.Progress.NONE);
                byte[] after = readVolume(store, VOLUME);
                for (int off = 0; off < before.length; off += SECTOR) {
                    if (!Arrays.equals(before, off, off + SECTOR, after, off, off + SECTOR)) {
                        long block = off / BLOCK;
                        int sector = (off % BLOCK) / SECTOR;
                        problems.computeIfAbsent("FLATTEN CHANGED DATA (a copy of the store flattened after a "
                                + "recovery)", k -> new ArrayList<>()).add(String.format(
                                "crash %d: block %d sector %d (cluster %d): read %s before flatten, %s after",
                                iteration, block, sector, off / CLUSTER, describe(decode(before, off, block, sector)),
                                describe(decode(after, off, block, sector))));
                    }
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(copy)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private record Op(long gen, long block, int first, int count, char kind) {}

    private static final class Child {
        final Map<Long, Op> issued = new HashMap<>();
        final List<Long> durable = new ArrayList<>();
        boolean killed;
        String stderr = "";
    }

    private static final class Stats {
        int kills;
        long ops;
        long durableSectors;
        long exact;
        long later;
        long sectorsChecked;
        int compactionsArranged;
    }

    /**
     * Brings the clone's journal to just under {@link MapJournal#COMPACT_AT} with flushed writes (one
     * record per cluster: every other cluster, rewritten round after round), so the next child folds
     * it into a checkpoint under load and may be killed doing so. The rewritten sectors become the
     * baseline. Returns whether the journal was brought there.
     */
    private static boolean padJournal(Path dir, int iteration, long[] baseline) throws IOException {
        long target = MapJournal.COMPACT_AT - (48 << 10);
        long genBase = ((iteration + 1L) << 32) | 0x4000_0000L; // never used by a child
        try (FileStore store = FileStore.open(dir, new FileStore.Options(CLUSTER, 1 << 20));
                Volume v = store.open(VOLUME)) {
            Path journal = dir.resolve("layers")
                    .resolve(Catalog.read(dir.resolve("catalog.json")).volumes().get(VOLUME).top() + ".journal");
            int perCluster = CLUSTER / SECTOR;
            byte[] buf = new byte[CLUSTER];
            int clusters = BLOCKS * BLOCK / CLUSTER; // a round adds clusters / 2 records: 12 KiB, under the margin
            for (int round = 0; round < 1000 && Files.size(journal) < target; round++) {
                long gen = genBase + round;
                for (int c = round & 1; c < clusters; c += 2) {
                    for (int k = 0; k < perCluster; k++) {
                        int idx = c * perCluster + k;
                        CrashWriter.sector(buf, k * SECTOR, idx / SECTORS, idx % SECTORS, gen);
                        baseline[idx] = gen;
                    }
                    v.write((long) c * CLUSTER, ByteBuffer.wrap(buf), false);
                }
                v.flush();
            }
            return Files.size(journal) >= target && Files.size(journal) < MapJournal.COMPACT_AT;
        }
    }

    private static void setUpStore(Path dir) throws IOException {
        try (FileStore store = FileStore.open(dir, new FileStore.Options(CLUSTER, 1 << 20))) {
            store.create(BASE, (long) BLOCKS * BLOCK);
            try (Volume base = store.open(BASE)) {
                byte[] block = new byte[BLOCK];
                for (int b = 0; b < BLOCKS; b++) {
                    if (!CrashWriter.parentZero(b)) {
                        for (int s = 0; s < SECTORS; s++) {
                            CrashWriter.sector(block, s * SECTOR, b, s, 0);
                        }
                        base.write((long) b * BLOCK, ByteBuffer.wrap(block), false);
                    }
                }
                base.flush();
            }
            store.snapshot(BASE, SNAPSHOT);
            store.clone(BASE, SNAPSHOT, VOLUME);
        }
    }

    private Child runAndKill(Path dir, int iteration, long seed, long genBase, long delayMillis, boolean afterReady)
            throws Exception {
        Path err = tmp.resolve("child-" + iteration + ".err");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m",
                "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(),
                "write", dir.toString(), Long.toString(seed), Long.toString(genBase), Integer.toString(THREADS),
                "5000", Integer.toString(BLOCKS));
        // stdout goes to a file, not a pipe: whatever the child wrote before SIGKILL is in the page cache and
        // is read back whole (a pipe is drained by the JDK when the process dies, which can lose its tail).
        Path outFile = tmp.resolve("child-" + iteration + ".out");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(outFile.toFile()).start();
        Child c = new Child();
        try {
            if (afterReady) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!startsWith(outFile, "READY\n") && p.isAlive() && System.nanoTime() < until) {
                    Thread.sleep(5);
                }
                if (!startsWith(outFile, "READY\n")) {
                    fail("child %d did not get ready; stdout=%s stderr=%s", iteration, read(outFile), read(err));
                }
            }
            Thread.sleep(delayMillis);
            c.killed = p.isAlive();
            p.destroyForcibly(); // SIGKILL
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("child %d exits after SIGKILL", iteration).isTrue();
        } finally {
            p.destroyForcibly();
        }
        c.stderr = read(err);
        String all = Files.readString(outFile, StandardCharsets.US_ASCII);
        String keep = System.getProperty("store.crash.keepOutput"); // a directory for the children's stdout
        if (keep != null && !keep.isBlank()) {
            Files.createDirectories(Path.of(keep));
            Files.writeString(Path.of(keep, "child-" + iteration + ".out"), all);
        }
        if (!c.killed && (p.exitValue() != 0 || !all.contains("DONE\n"))) {
            fail("child %d ended by itself with status %d; stdout tail=%s stderr=%s", iteration, p.exitValue(),
                    tail(all), c.stderr);
        }
        int end = all.lastIndexOf('\n'); // a line cut by the kill is ignored: it was never acted on
        for (String line : all.substring(0, end + 1).split("\n")) {
            if (line.startsWith("I ")) {
                String[] f = line.split(" ");
                Op op = new Op(Long.parseLong(f[1]), Long.parseLong(f[2]), Integer.parseInt(f[3]),
                        Integer.parseInt(f[4]), f[5].charAt(0));
                c.issued.put(op.gen(), op);
            } else if (line.startsWith("D ")) {
                for (String g : line.substring(2).split(" ")) {
                    c.durable.add(Long.parseLong(g));
                }
            } else if (line.startsWith("ERROR")) {
                fail("child %d failed: %s; stderr=%s", iteration, line, c.stderr);
            }
        }
        return c;
    }

    private static boolean startsWith(Path file, String s) {
        try {
            return Files.size(file) >= s.length() && Files.readString(file, StandardCharsets.US_ASCII).startsWith(s);
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(String s) {
        return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? tail(Files.readString(p)) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private void verifyAfterCrash(Path dir, int iteration, long genBase, Child c, long[] baseline, Stats stats,
            Map<String, List<String>> problems) throws IOException {
        // The newest durable generation of each sector, and every generation issued for it this run.
        long[] durable = new long[baseline.length];
        Arrays.fill(durable, NONE);
        Map<Integer, List<Op>> issuedBySector = new HashMap<>();
        for (Op op : c.issued.values()) {
            for (int s = op.first(); s < op.first() + op.count(); s++) {
                issuedBySector.computeIfAbsent((int) op.block() * SECTORS + s, k -> new ArrayList<>()).add(op);
            }
        }
        for (long g : c.durable) {
            Op op = c.issued.get(g);
            assertThat(op).as("run %d: durable generation %d was announced before it was issued", iteration, g)
                    .isNotNull();
            for (int s = op.first(); s < op.first() + op.count(); s++) {
                int idx = (int) op.block() * SECTORS + s;
                durable[idx] = Math.max(durable[idx], g);
            }
        }
        byte[] all;
        // Recovery is just opening: no repair step, no error.
        try (FileStore store = FileStore.open(dir, new FileStore.Options(CLUSTER, 1 << 20))) {
            all = readVolume(store, VOLUME);
            checkParentSnapshot(store, iteration);
        }
        for (int idx = 0; idx < baseline.length; idx++) {
            long block = idx / SECTORS;
            int s = idx % SECTORS;
            long seen = decode(all, idx * SECTOR, block, s);
            stats.sectorsChecked++;
            List<Op> ops = issuedBySector.getOrDefault(idx, List.of());
            boolean ok;
            if (seen == GARBAGE) {
                ok = false;
            } else if (durable[idx] == NONE) {
                ok = seen == baseline[idx] || matchesIssued(ops, seen, Long.MIN_VALUE);
            } else {
                stats.durableSectors++;
                ok = matchesIssued(ops, seen, durable[idx]);
                Op d = c.issued.get(durable[idx]);
                if (ok && ((seen == ZERO && d.kind() == 'Z') || seen == durable[idx])) {
                    stats.exact++;
                } else if (ok) {
                    stats.later++;
                }
            }
            if (!ok) {
                String kind;
                if (seen == GARBAGE) {
                    kind = "GARBAGE (no version of this sector ever held these bytes)";
                } else if (durable[idx] != NONE && (seen == baseline[idx] || matchesIssued(ops, seen, 0))) {
                    kind = "DURABLE WRITE LOST (reads a version older than the newest durable one)";
                } else if (seen > 0 && seen < genBase) {
                    kind = "LOST WRITE CAME BACK (a version from an earlier run that recovery had not shown)";
                } else {
                    kind = "UNEXPECTED VERSION";
                }
                problems.computeIfAbsent(kind, k -> new ArrayList<>()).add(String.format(
                        "crash %d: block %d sector %d (cluster %d) reads %s%s; after the previous recovery it read %s; "
                                + "newest durable: %s; issued this run: %s",
                        iteration, block, s, (long) idx * SECTOR / CLUSTER, describe(seen),
                        c.issued.containsKey(seen) ? " (issued as " + c.issued.get(seen) + ")" : "",
                        describe(baseline[idx]), durable[idx] == NONE ? "none" : c.issued.get(durable[idx]), ops));
            }
            baseline[idx] = seen;
        }
    }

    /** Whether {@code seen} is what one of {@code ops} at or after generation {@code from} leaves. */
    private static boolean matchesIssued(List<Op> ops, long seen, long from) {
        for (Op op : ops) {
            if (op.gen() >= from && (op.kind() == 'Z' ? seen == ZERO : seen == op.gen())) {
                return true;
            }
        }
        return false;
    }

    private static String describe(long v) {
        return v == ZERO ? "zeros" : v == GARBAGE ? "GARBAGE" : v == 0 ? "the parent's data" : "generation " + v;
    }

    /** Which version a sector holds: ZERO, a generation (0 = parent), or GARBAGE. */
    private static long decode(byte[] all, int off, long block, int sector) {
        boolean zero = true;
        for (int i = off; i < off + SECTOR && zero; i++) {
            zero = all[i] == 0;
        }
        if (zero) {
            return ZERO;
        }
        long gen = ByteBuffer.wrap(all, off, 8).getLong();
        byte[] expect = new byte[SECTOR];
        CrashWriter.sector(expect, 0, block, sector, gen);
        return Arrays.equals(all, off, off + SECTOR, expect, 0, SECTOR) ? gen : GARBAGE;
    }

    private static void checkParentSnapshot(FileStore store, int iteration) throws IOException {
        store.clone(BASE, SNAPSHOT, "check");
        try {
            byte[] all = readVolume(store, "check");
            for (int idx = 0; idx < BLOCKS * SECTORS; idx++) {
                long block = idx / SECTORS;
                long seen = decode(all, idx * SECTOR, block, idx % SECTORS);
                long want = CrashWriter.parentZero(block) ? ZERO : 0;
                if (seen != want) {
                    fail("after crash %d the parent snapshot %s@%s changed: block %d sector %d reads %s, not %s",
                            iteration, BASE, SNAPSHOT, block, idx % SECTORS, describe(seen), describe(want));
                }
            }
        } finally {
            store.delete("check");
        }
    }

    private static byte[] readVolume(FileStore store, String name) throws IOException {
        try (Volume v = store.open(name)) {
            ByteBuffer b = ByteBuffer.allocate((int) v.size());
            v.read(0, b);
            return b.array();
        }
    }

    // ---------------------------------------------------------------- deterministic crash images

    /**
     * What SIGKILL leaves of a store: its files as the kernel has them (page cache included), and
     * nothing of the process's memory. Copying an open store's files gives exactly that.
     */
    private static void crashImage(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        }
    }

    private static final int CS = 4096;

    /** base: cluster 0 holds data, cluster 1 zeros, cluster 2 data; snapshot g; clone w. */
    private static FileStore smallStore(Path dir) throws IOException {
        FileStore store = FileStore.open(dir, new FileStore.Options(CS, 1 << 20));
        store.create("base", 16 * CS);
        try (Volume b = store.open("base")) {
            b.write(0, ByteBuffer.wrap(filled(CS, (byte) 0x11)), false);
            b.write(2 * CS, ByteBuffer.wrap(filled(CS, (byte) 0x22)), true);
        }
        store.snapshot("base", "g");
        store.clone("base", "g", "w");
        return store;
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        Arrays.fill(b, v);
        return b;
    }

    private static byte[] read(Volume v, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        v.read(off, b);
        return b.array();
    }

    @Test
    void flattenAfterCrashDoesNotResurrectALostWrite() throws IOException {
        Path dir = tmp.resolve("a");
        Path crashed = tmp.resolve("a-crashed");
        try (FileStore store = smallStore(dir); Volume w = store.open("w")) {
            w.write(CS, ByteBuffer.wrap(filled(CS, (byte) 0x77)), false); // never flushed
            crashImage(dir, crashed);
        }
        try (FileStore store = FileStore.open(crashed, new FileStore.Options(CS, 1 << 20))) {
            byte[] afterCrash;
            try (Volume w = store.open("w")) {
                afterCrash = read(w, CS, CS); // the lost write, or (as the map was not durable) the parent's zeros
            }
            store.flatten("w", VolumeStore.Progress.NONE);
            try (Volume w = store.open("w")) {
                assertThat(read(w, CS, CS))
                        .as("cluster 1 of the clone must read after flatten what it read before (flatten never "
                                + "changes data); it read %s before", afterCrash[0] == 0 ? "zeros" : "0x77")
                        .isEqualTo(afterCrash);
            }
        }
    }

    @Test
    void partialWriteIntoUnmappedClusterAfterCrashKeepsTheRestZero() throws IOException {
        Path dir = tmp.resolve("b");
        Path crashed = tmp.resolve("b-crashed");
        try (FileStore store = smallStore(dir); Volume w = store.open("w")) {
            w.unmap(2 * CS, CS);
            w.flush(); // the unmap is durable: cluster 2 reads zeros, not the parent's 0x22
            w.write(2 * CS, ByteBuffer.wrap(filled(CS, (byte) 0x77)), false); // never flushed
            crashImage(dir, crashed);
        }
        try (FileStore store = FileStore.open(crashed, new FileStore.Options(CS, 1 << 20));
                Volume w = store.open("w")) {
            byte[] afterCrash = read(w, 2 * CS, CS);
            assertThat(afterCrash).as("cluster 2 after the crash: the durable unmap").containsOnly(0);
            w.write(2 * CS, ByteBuffer.wrap(new byte[] {5}), false); // one byte into the unmapped cluster
            byte[] expected = new byte[CS];
            expected[0] = 5;
            assertThat(read(w, 2 * CS, CS))
                    .as("a one-byte write into an unmapped (zero) cluster changes that byte only; the rest of "
                            + "the cluster must not show the lost 0x77 write")
                    .isEqualTo(expected);
        }
    }

    @Test
    void flattenAfterCrashKeepsAnUnmappedClusterZero() throws IOException {
        Path dir = tmp.resolve("c");
        Path crashed = tmp.resolve("c-crashed");
        try (FileStore store = smallStore(dir); Volume w = store.open("w")) {
            w.unmap(0, CS);
            w.flush();
            w.write(0, ByteBuffer.wrap(filled(CS, (byte) 0x77)), false); // never flushed
            crashImage(dir, crashed);
        }
        try (FileStore store = FileStore.open(crashed, new FileStore.Options(CS, 1 << 20))) {
            try (Volume w = store.open("w")) {
                assertThat(read(w, 0, CS)).as("cluster 0 after the crash: the durable unmap").containsOnly(0);
            }
            store.flatten("w", VolumeStore.Progress.NONE);
            try (Volume w = store.open("w")) {
                assertThat(read(w, 0, CS)).as("cluster 0 after flatten: still the unmap's zeros").containsOnly(0);
            }
        }
    }

    @Test
    void durableWritesSurviveACrashImage() throws IOException {
        Path dir = tmp.resolve("d");
        Path crashed = tmp.resolve("d-crashed");
        byte[] a = filled(CS + 100, (byte) 0x31);
        byte[] b = filled(700, (byte) 0x42);
        try (FileStore store = smallStore(dir); Volume w = store.open("w")) {
            w.write(3 * CS + 50, ByteBuffer.wrap(a), false);
            w.flush();
            w.write(5 * CS + 10, ByteBuffer.wrap(b), true); // FUA
            w.unmap(2 * CS, CS);
            w.flush();
            w.write(7 * CS, ByteBuffer.wrap(filled(CS, (byte) 0x55)), false); // may or may not survive
            crashImage(dir, crashed);
        }
        try (FileStore store = FileStore.open(crashed, new FileStore.Options(CS, 1 << 20));
                Volume w = store.open("w")) {
            assertThat(read(w, 3 * CS + 50, a.length)).isEqualTo(a);
            assertThat(read(w, 5 * CS + 10, b.length)).isEqualTo(b);
            assertThat(read(w, 2 * CS, CS)).containsOnly(0);
            assertThat(read(w, 0, CS)).containsOnly(0x11); // the parent's, untouched
            byte[] maybe = read(w, 7 * CS, CS); // never flushed: the parent's zeros, or the write if it landed
            assertThat(maybe).as("an unflushed full-cluster write after a crash: all of it or none of it")
                    .containsOnly(maybe[0] == 0 ? 0 : 0x55);
        }
    }

    // ---------------------------------------------------------------- one process per store

    /** docs/storage.md: "a store directory is used by one process at a time (a lock file holds an exclusive lock)". */
    @Test
    void aSecondProcessCannotOpenAnOpenStore() throws Exception {
        Path dir = tmp.resolve("locked");
        try (FileStore store = FileStore.open(dir)) {
            store.create("v", 1 << 20);
            assertThat(probe(dir)).as("a second process opening the store while this one has it open")
                    .startsWith("REFUSED");
        }
        assertThat(probe(dir)).as("once this process closed the store").isEqualTo("OPENED");
    }

    private String probe(Path dir) throws Exception {
        Path err = tmp.resolve("probe.err");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(), "probe", dir.toString())
                .redirectError(err.toFile()).start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("probe finishes").isTrue();
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        } finally {
            p.destroyForcibly();
        }
    }
}
