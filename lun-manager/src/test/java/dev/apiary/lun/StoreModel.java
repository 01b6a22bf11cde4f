package dev.apiary.lun;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.VolumeStore.SnapshotInfo;
import dev.apiary.lun.VolumeStore.SnapshotRef;
import dev.apiary.lun.VolumeStore.Usage;
import dev.apiary.lun.VolumeStore.VolumeInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.LongStream;

/**
 * Model-based test of a {@link VolumeStore}: a seeded random sequence of store and volume
 * operations over several volumes at once (a base, its snapshots, clones of snapshots, clones of
 * clones' snapshots), checked after every step against a trivial in-memory model (one byte[] per
 * volume and per snapshot). Store-agnostic: each store's test supplies a {@link Fixture} (the file
 * store's {@code file.StoreModelTest}, the RBD store's {@code rbd.RbdStoreModelTest}).
 *
 * <p>Replay or run longer: {@code -Dstore.model.seed=123[,456] -Dstore.model.steps=5000}. A failure
 * names seed, step and operation.
 *
 * <p>Over the 400-line budget on purpose: the operations and the checks share the model's state,
 * and one class keeps a failing step readable from top to bottom.
 */
public final class StoreModel {
    private static final int MAX_VOLUMES = 8;
    private static final int MAX_SNAPSHOTS = 4;
    private static final int MAX_SIZE = 2 << 20;
    private static final int MAX_WRITE = 200 << 10;
    /** Steps per two minutes of time budget. */
    private static final int STEPS_PER_BUDGET = 300;

    private StoreModel() {}

    /** The store under test, as the model needs it. */
    public interface Fixture {
        /** Opens the store; called again after close to reopen it (the "reopen" step). */
        VolumeStore open() throws IOException;

        /** The store's allocation unit: writes and unmaps are aimed at and across its boundaries. */
        int granularity();

        /** What to print beside the seed when a run fails (options that matter for a replay). */
        String describe();
    }

    /** Seeds from {@code -Dstore.model.seed}, else 1..{@code defaultSeeds}. */
    public static LongStream seeds(int defaultSeeds) {
        String p = System.getProperty("store.model.seed");
        if (p != null && !p.isBlank()) {
            return Arrays.stream(p.split(",")).mapToLong(x -> Long.parseLong(x.trim()));
        }
        return LongStream.rangeClosed(1, defaultSeeds);
    }

    /** Steps from {@code -Dstore.model.steps}, else {@code defaultSteps}. */
    public static int steps(int defaultSteps) {
        return Integer.getInteger("store.model.steps", defaultSteps);
    }

    /** Runs one seeded sequence; {@code scratch} is a directory for raw files to import. */
    public static void run(long seed, int steps, Path scratch, Fixture fixture) throws Exception {
        new Run(seed, scratch, steps, fixture).run();
    }

    /** One volume of the model: its bytes, its parent, its snapshots' bytes, and an open handle if any. */
    private static final class MVol {
        final String name;
        byte[] data;
        SnapshotRef parent;
        final LinkedHashMap<String, byte[]> snaps = new LinkedHashMap<>();
        Volume handle;

        MVol(String name, byte[] data, SnapshotRef parent) {
            this.name = name;
            this.data = data;
            this.parent = parent;
        }
    }

    private static final class Run {
        final long seed;
        final Path scratch;
        final int steps;
        final Fixture fixture;
        final int cs;
        final Random rnd;
        final TreeMap<String, MVol> vols = new TreeMap<>();
        final ArrayDeque<String> recent = new ArrayDeque<>();
        final Map<String, Integer> stats = new TreeMap<>();
        int maxDepth;
        VolumeStore store;
        int counter;
        int step;
        String op = "setup";
        MVol touched;

        Run(long seed, Path scratch, int steps, Fixture fixture) {
            this.seed = seed;
            this.scratch = scratch;
            this.steps = steps;
            this.fixture = fixture;
            this.cs = fixture.granularity();
            this.rnd = new Random(seed);
        }

        void run() throws Exception {
            long deadline = System.nanoTime() + 120_000_000_000L * Math.max(1, steps / STEPS_PER_BUDGET);
            try {
                store = fixture.open();
                createVolume(true);
                checkStructure();
                for (step = 1; step <= steps; step++) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("time budget exceeded");
                    }
                    touched = null;
                    op = "?";
                    oneStep();
                    remember();
                    stats.merge(op.split(" ")[0], 1, Integer::sum);
                    maxDepth = Math.max(maxDepth, vols.values().stream().mapToInt(this::depth).max().orElse(0));
                    checkStructure();
                    if (touched != null && vols.containsKey(touched.name)) {
                        verifyVolume(touched);
                    }
                    randomRead();
                    if (step % 50 == 0) {
                        op = "periodic full verification";
                        verifyAll(true);
                    }
                }
                step = steps + 1;
                op = "final reopen and verification";
                reopen();
                System.out.printf("StoreModel %s seed=%d steps=%d max clone depth=%d ops=%s%n",
                        fixture.describe(), seed, steps, maxDepth, stats);
            } catch (Throwable t) {
                remember();
                throw new AssertionError(String.format(
                        "seed=%d step=%d op=%s (%s)%n"
                                + "  replay: -Dstore.model.seed=%d -Dstore.model.steps=%d%n"
                                + "  recent ops (oldest first):%n    %s%n  cause: %s",
                        seed, step, op, fixture.describe(), seed, steps, String.join("\n    ", recent), t), t);
            } finally {
                if (store != null) {
                    try {
                        store.close();
                    } catch (IOException ignored) {
                        // the failure above is the interesting one
                    }
                }
            }
        }

        private int remembered = -1;

        private void remember() {
            if (remembered != step) {
                remembered = step;
                recent.addLast("[" + step + "] " + op);
            }
            while (recent.size() > 25) {
                recent.removeFirst();
            }
        }

        private void oneStep() throws Exception {
            if (vols.isEmpty()) {
                createVolume(false);
                return;
            }
            int r = rnd.nextInt(100);
            if (r < 28) {
                write();
            } else if (r < 38) {
                read();
            } else if (r < 47) {
                unmap();
            } else if (r < 52) {
                flush();
            } else if (r < 58) {
                snapshot();
            } else if (r < 64) {
                cloneOp();
            } else if (r < 67) {
                flatten();
            } else if (r < 72) {
                resize();
            } else if (r < 74) {
                deleteSnapshot();
            } else if (r < 76) {
                rollback();
            } else if (r < 79) {
                if (vols.size() > 3 || rnd.nextBoolean()) {
                    delete();
                } else {
                    cloneOp();
                }
            } else if (r < 85) {
                openOrClose();
            } else if (r < 87) {
                reopen();
            } else if (r < 90) {
                createVolume(false);
            } else if (r < 93) {
                verifyOneSnapshot();
            } else if (r < 96) {
                unalignedStress();
            } else {
                refusals();
            }
        }

        // ---- picking ----

        private MVol pickVol() {
            List<String> names = new ArrayList<>(vols.keySet());
            return vols.get(names.get(rnd.nextInt(names.size())));
        }

        private <T> T pick(List<T> l) {
            return l.get(rnd.nextInt(l.size()));
        }

        private Volume handle(MVol v) throws IOException {
            if (v.handle == null) {
                v.handle = store.open(v.name);
            }
            return v.handle;
        }

        private int pickLength(long size) {
            int r = rnd.nextInt(10);
            int max = switch (r) {
                case 0, 1, 2, 3 -> 3 * cs;
                case 4, 5, 6 -> 16 << 10;
                case 7, 8 -> 64 << 10;
                default -> MAX_WRITE;
            };
            return (int) Math.min(size, 1 + rnd.nextInt(max));
        }

        private long pickOffset(long size, long len) {
            int r = rnd.nextInt(8);
            if (r == 0) {
                return size - len; // at the very end
            }
            if (r <= 2) {
                long c = (size - len) / cs;
                return c == 0 ? 0 : (long) rnd.nextInt((int) c + 1) * cs; // cluster-aligned
            }
            return (long) (rnd.nextDouble() * (size - len + 1));
        }

        private long pickSize() {
            int[] sizes = {64 << 10, 128 << 10, 192 << 10, 256 << 10, 512 << 10, 1 << 20, MAX_SIZE};
            long s;
            if (rnd.nextInt(3) == 0) {
                s = 512L * (128 + rnd.nextInt((MAX_SIZE >> 9) - 128)); // any sector multiple
            } else {
                s = sizes[rnd.nextInt(rnd.nextInt(4) == 0 ? sizes.length : sizes.length - 2)];
            }
            if (rnd.nextInt(10) == 0) {
                s -= 1 + rnd.nextInt(511); // not even a sector multiple: the interface is byte-addressed
            }
            return s;
        }

        private String newName(String prefix) {
            return prefix + (++counter);
        }

        // ---- operations ----

        private void createVolume(boolean first) throws Exception {
            if (vols.size() >= MAX_VOLUMES) {
                read();
                return;
            }
            String name = newName("v");
            long size = pickSize();
            byte[] data;
            if (first || rnd.nextBoolean()) {
                op = "create " + name + " size=" + size;
                VolumeInfo vi = store.create(name, size);
                assertThat(vi.name()).isEqualTo(name);
                assertThat(vi.size()).isEqualTo(size);
                assertThat(vi.parent()).isEmpty();
                assertThat(vi.snapshots()).isEmpty();
                data = new byte[(int) size];
            } else {
                data = new byte[(int) size];
                // Random clusters, zero clusters (which stay holes) and a partly-zero cluster.
                for (int at = 0; at < size; at += cs) {
                    int len = (int) Math.min(cs, size - at);
                    int kind = rnd.nextInt(4);
                    if (kind == 0 || kind == 1) {
                        byte[] c = new byte[len];
                        rnd.nextBytes(c);
                        System.arraycopy(c, 0, data, at, len);
                    } else if (kind == 2) {
                        data[at + rnd.nextInt(len)] = (byte) (1 + rnd.nextInt(255));
                    }
                }
                Path src = scratch.resolve("import-" + name + ".raw");
                writeSparse(src, data);
                op = "importRaw " + name + " size=" + size;
                long[] last = {-1, -1};
                VolumeInfo vi = store.importRaw(name, src, (done, total) -> {
                    assertThat(done).isGreaterThanOrEqualTo(last[0]);
                    last[0] = done;
                    last[1] = total;
                });
                Files.delete(src);
                assertThat(vi.size()).isEqualTo(size);
                assertThat(last[0]).as("final progress of import").isEqualTo(size);
                assertThat(last[1]).isEqualTo(size);
            }
            MVol v = new MVol(name, data, null);
            vols.put(name, v);
            touched = v;
        }

        /**
         * The import source as mkfs or a downloaded image leaves it: holes, and zero blocks written
         * as zeros, among the data; blocks of 4 KiB at random, so a hole may start inside a cluster.
         */
        private void writeSparse(Path src, byte[] data) throws IOException {
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(src.toFile(), "rw")) {
                f.setLength(data.length);
                for (int at = 0; at < data.length; at += 4096) {
                    int len = Math.min(4096, data.length - at);
                    boolean zero = Arrays.equals(data, at, at + len, new byte[len], 0, len);
                    if (!zero || rnd.nextInt(3) == 0) {
                        f.seek(at);
                        f.write(data, at, len);
                    }
                }
            }
        }

        private void write() throws IOException {
            MVol v = pickVol();
            long size = v.data.length;
            int len = pickLength(size);
            long off = pickOffset(size, len);
            boolean fua = rnd.nextInt(5) == 0;
            byte[] b = new byte[len];
            if (rnd.nextInt(20) != 0) {
                rnd.nextBytes(b);
            }
            op = "write " + v.name + " off=" + off + " len=" + len + " fua=" + fua;
            doWrite(v, off, b, fua);
        }

        private void doWrite(MVol v, long off, byte[] b, boolean fua) throws IOException {
            Volume h = handle(v);
            ByteBuffer src;
            if (rnd.nextInt(4) == 0) {
                src = ByteBuffer.allocateDirect(b.length).put(b).flip();
            } else {
                // a buffer that does not start at 0 of its array
                int pad = rnd.nextInt(16);
                byte[] big = new byte[b.length + 2 * pad];
                System.arraycopy(b, 0, big, pad, b.length);
                src = ByteBuffer.wrap(big, pad, b.length);
            }
            h.write(off, src, fua);
            System.arraycopy(b, 0, v.data, (int) off, b.length);
            touched = v;
        }

        /** Several small writes and unmaps that straddle cluster boundaries by a byte or so. */
        private void unalignedStress() throws IOException {
            MVol v = pickVol();
            long size = v.data.length;
            long clusters = Math.max(1, size / cs);
            long c = rnd.nextLong(clusters);
            op = "unaligned stress on " + v.name + " around cluster " + c;
            for (int i = 0; i < 6; i++) {
                long boundary = Math.min(size - 1, c * cs + (rnd.nextBoolean() ? cs : 0));
                long off = Math.max(0, Math.min(size - 1, boundary - 1 - rnd.nextInt(3)));
                int len = (int) Math.min(size - off, 1 + rnd.nextInt(4));
                if (rnd.nextInt(3) == 0) {
                    handle(v).unmap(off, len);
                    Arrays.fill(v.data, (int) off, (int) (off + len), (byte) 0);
                } else {
                    byte[] b = new byte[len];
                    rnd.nextBytes(b);
                    doWrite(v, off, b, false);
                }
            }
            touched = v;
        }

        private void unmap() throws IOException {
            MVol v = pickVol();
            long size = v.data.length;
            long off;
            long len;
            int r = rnd.nextInt(4);
            if (r == 0) {
                off = (long) rnd.nextInt((int) ((size - 1) / cs + 1)) * cs;
                len = Math.min(size - off, (long) cs * (1 + rnd.nextInt(64)));
            } else if (r == 1) {
                off = 0;
                len = size; // everything
            } else {
                off = (long) (rnd.nextDouble() * size);
                len = Math.min(size - off, 1 + rnd.nextInt(rnd.nextBoolean() ? 3 * cs : 300 << 10));
            }
            if (len <= 0) {
                off = size - 1;
                len = 1;
            }
            op = "unmap " + v.name + " off=" + off + " len=" + len;
            handle(v).unmap(off, len);
            Arrays.fill(v.data, (int) off, (int) (off + len), (byte) 0);
            touched = v;
        }

        private void read() throws IOException {
            MVol v = pickVol();
            long size = v.data.length;
            int len = pickLength(size);
            long off = pickOffset(size, len);
            op = "read " + v.name + " off=" + off + " len=" + len;
            checkRange(v, handle(v), off, len);
        }

        private void randomRead() throws IOException {
            if (vols.isEmpty()) {
                return;
            }
            MVol v = pickVol();
            if (v.handle == null) {
                return;
            }
            long size = v.data.length;
            int len = (int) Math.min(size, 1 + rnd.nextInt(8 * cs));
            long off = pickOffset(size, len);
            checkRange(v, v.handle, off, len);
        }

        private void flush() throws IOException {
            MVol v = pickVol();
            op = "flush " + v.name;
            handle(v).flush();
        }

        /** Mostly a volume, sometimes the deepest clone: so clones of clones' snapshots happen. */
        private MVol pickDeep() {
            if (rnd.nextBoolean()) {
                int d = vols.values().stream().mapToInt(this::depth).max().orElse(0);
                List<MVol> deepest = vols.values().stream().filter(v -> depth(v) == d).toList();
                return pick(deepest);
            }
            return pickVol();
        }

        private void snapshot() throws IOException {
            MVol v = pickDeep();
            if (!v.snaps.isEmpty() && (v.snaps.size() >= MAX_SNAPSHOTS || rnd.nextInt(10) == 0)) {
                String existing = pick(new ArrayList<>(v.snaps.keySet()));
                op = "snapshot " + v.name + "@" + existing + " (exists)";
                expect(Reason.ALREADY_EXISTS, () -> store.snapshot(v.name, existing), v.name);
                return;
            }
            String sn = newName("s");
            if (rnd.nextBoolean()) {
                handle(v); // snapshot of an open volume; otherwise it may be closed
            }
            op = "snapshot " + v.name + "@" + sn + (v.handle != null ? " (open)" : " (closed)");
            SnapshotInfo si = store.snapshot(v.name, sn);
            assertThat(si.volume()).isEqualTo(v.name);
            assertThat(si.name()).isEqualTo(sn);
            assertThat(si.size()).isEqualTo(v.data.length);
            assertThat(si.clones()).isEmpty();
            v.snaps.put(sn, v.data.clone());
            touched = v;
        }

        private void cloneOp() throws IOException {
            List<MVol> withSnaps = vols.values().stream().filter(v -> !v.snaps.isEmpty()).toList();
            if (withSnaps.isEmpty()) {
                snapshot();
                return;
            }
            int deepest = withSnaps.stream().mapToInt(this::depth).max().orElse(0);
            MVol v = rnd.nextBoolean() ? pick(withSnaps)
                    : pick(withSnaps.stream().filter(x -> depth(x) == deepest).toList());
            String sn = pick(new ArrayList<>(v.snaps.keySet()));
            int r = rnd.nextInt(12);
            if (r == 0) {
                String existing = pickVol().name;
                op = "clone " + v.name + "@" + sn + " -> " + existing + " (exists)";
                expect(Reason.ALREADY_EXISTS, () -> store.clone(v.name, sn, existing), existing);
                return;
            }
            if (r == 1) {
                op = "clone " + v.name + "@nosuch -> x";
                expect(Reason.NOT_FOUND, () -> store.clone(v.name, "nosuch", "x" + counter), v.name);
                return;
            }
            if (vols.size() >= MAX_VOLUMES) {
                delete();
                return;
            }
            String nn = newName("c");
            op = "clone " + v.name + "@" + sn + " -> " + nn;
            VolumeInfo vi = store.clone(v.name, sn, nn);
            SnapshotRef ref = new SnapshotRef(v.name, sn);
            assertThat(vi.name()).isEqualTo(nn);
            assertThat(vi.parent()).contains(ref);
            assertThat(vi.size()).isEqualTo(v.snaps.get(sn).length);
            assertThat(vi.snapshots()).isEmpty();
            MVol c = new MVol(nn, v.snaps.get(sn).clone(), ref);
            vols.put(nn, c);
            touched = c;
        }

        private void flatten() throws IOException {
            List<MVol> clones = vols.values().stream().filter(v -> v.parent != null).toList();
            MVol v = clones.isEmpty() || rnd.nextInt(6) == 0 ? pickVol() : pick(clones);
            if (v.parent == null) {
                op = "flatten " + v.name + " (not a clone)";
                expect(Reason.INVALID, () -> store.flatten(v.name, (d, t) -> {}), v.name);
                return;
            }
            if (!v.snaps.isEmpty()) {
                op = "flatten " + v.name + " (has snapshots " + v.snaps.keySet() + ")";
                StoreException e = expect(Reason.INVALID, () -> store.flatten(v.name, (d, t) -> {}), v.name);
                assertThat(e.getMessage()).contains(v.snaps.keySet().iterator().next());
                return;
            }
            boolean online = rnd.nextBoolean();
            if (online) {
                handle(v);
            } else if (v.handle != null) {
                v.handle.close();
                v.handle = null;
            }
            op = "flatten " + v.name + " from " + v.parent + (online ? " (open)" : " (closed)");
            long[] last = {-1, -1};
            store.flatten(v.name, (done, total) -> {
                assertThat(done).isGreaterThanOrEqualTo(last[0]).isLessThanOrEqualTo(total);
                last[0] = done;
                last[1] = total;
            });
            if (last[0] >= 0) {
                assertThat(last[0]).as("final flatten progress").isEqualTo(v.data.length);
            }
            v.parent = null;
            assertThat(store.info(v.name).orElseThrow().parent()).isEmpty();
            touched = v;
        }

        private void resize() throws IOException {
            MVol v = pickVol();
            long size = v.data.length;
            int r = rnd.nextInt(10);
            if (r == 0) {
                long smaller = size - 1 - rnd.nextInt((int) Math.min(size - 1, 4096) + 1);
                op = "resize " + v.name + " " + size + " -> " + smaller + " (shrink)";
                expect(Reason.INVALID, () -> store.resize(v.name, Math.max(1, smaller)), v.name);
                return;
            }
            long n;
            if (r == 1 || size >= MAX_SIZE + (256 << 10)) {
                n = size;
            } else {
                n = size + 1 + rnd.nextInt(256 << 10);
                if (rnd.nextInt(4) != 0) {
                    n = (n + 511) / 512 * 512;
                }
            }
            boolean viaHandle = rnd.nextBoolean();
            op = "resize " + v.name + " " + size + " -> " + n + (viaHandle ? " (via handle)" : "");
            if (viaHandle) {
                handle(v).resize(n);
            } else {
                store.resize(v.name, n);
            }
            v.data = Arrays.copyOf(v.data, (int) n);
            if (v.handle != null) {
                assertThat(v.handle.size()).as("handle size after resize").isEqualTo(n);
            }
            touched = v;
        }

        private void deleteSnapshot() throws IOException {
            List<MVol> withSnaps = vols.values().stream().filter(v -> !v.snaps.isEmpty()).toList();
            if (withSnaps.isEmpty() || rnd.nextInt(15) == 0) {
                MVol v = pickVol();
                op = "deleteSnapshot " + v.name + "@nosuch";
                expect(Reason.NOT_FOUND, () -> store.deleteSnapshot(v.name, "nosuch"), v.name);
                return;
            }
            MVol v = pick(withSnaps);
            String sn = pick(new ArrayList<>(v.snaps.keySet()));
            List<String> deps = clonesOf(v.name, sn);
            op = "deleteSnapshot " + v.name + "@" + sn + (deps.isEmpty() ? "" : " (clones " + deps + ")");
            if (!deps.isEmpty()) {
                StoreException e = expect(Reason.IN_USE, () -> store.deleteSnapshot(v.name, sn), v.name);
                assertThat(e.getMessage()).contains(deps);
                return;
            }
            store.deleteSnapshot(v.name, sn);
            v.snaps.remove(sn);
            touched = v;
        }

        /** {@code rbd snap rollback}: the volume reads as the snapshot, size included; refused while open. */
        private void rollback() throws IOException {
            List<MVol> withSnaps = vols.values().stream().filter(v -> !v.snaps.isEmpty()).toList();
            if (withSnaps.isEmpty() || rnd.nextInt(15) == 0) {
                MVol v = pickVol();
                op = "rollback " + v.name + "@nosuch";
                expect(Reason.NOT_FOUND, () -> store.rollback(v.name, "nosuch"), v.name);
                return;
            }
            MVol v = pick(withSnaps);
            String sn = pick(new ArrayList<>(v.snaps.keySet()));
            if (v.handle != null) {
                if (rnd.nextInt(3) == 0) {
                    op = "rollback " + v.name + "@" + sn + " (open)";
                    expect(Reason.IN_USE, () -> store.rollback(v.name, sn), v.name);
                    return;
                }
                v.handle.close();
                v.handle = null;
            }
            op = "rollback " + v.name + "@" + sn;
            store.rollback(v.name, sn);
            v.data = v.snaps.get(sn).clone();
            touched = v;
        }

        private void delete() throws IOException {
            MVol v = pickVol();
            List<String> deps = new ArrayList<>();
            for (String sn : v.snaps.keySet()) {
                deps.addAll(clonesOf(v.name, sn));
            }
            if (v.handle != null) {
                if (rnd.nextInt(3) == 0) {
                    op = "delete " + v.name + " (open)";
                    expect(Reason.IN_USE, () -> store.delete(v.name), v.name);
                    return;
                }
                v.handle.close();
                v.handle = null;
            }
            op = "delete " + v.name + (deps.isEmpty() ? "" : " (clones " + deps + ")");
            if (!deps.isEmpty()) {
                StoreException e = expect(Reason.IN_USE, () -> store.delete(v.name), v.name);
                assertThat(e.getMessage()).contains(deps);
                return;
            }
            store.delete(v.name);
            vols.remove(v.name);
            assertThat(store.info(v.name)).isEmpty();
            expect(Reason.NOT_FOUND, () -> store.open(v.name), v.name);
        }

        private void openOrClose() throws IOException {
            MVol v = pickVol();
            if (v.handle == null) {
                op = "open " + v.name;
                v.handle = store.open(v.name);
                assertThat(v.handle.size()).isEqualTo(v.data.length);
            } else if (rnd.nextInt(3) == 0) {
                // A second handle on an open volume is the same volume; each handle is closed once.
                op = "second handle on " + v.name;
                Volume second = store.open(v.name);
                byte[] b = new byte[Math.min(v.data.length, 1 + rnd.nextInt(2 * cs))];
                rnd.nextBytes(b);
                long off = pickOffset(v.data.length, b.length);
                second.write(off, ByteBuffer.wrap(b), false);
                System.arraycopy(b, 0, v.data, (int) off, b.length);
                second.close();
                checkRange(v, v.handle, off, b.length);
                touched = v;
            } else {
                op = "close " + v.name;
                v.handle.close();
                v.handle = null;
            }
        }

        private void reopen() throws IOException {
            op = "reopen-store (flush, close, open)";
            Set<String> open = new TreeSet<>();
            for (MVol v : vols.values()) {
                if (v.handle != null) {
                    v.handle.flush();
                    open.add(v.name);
                    v.handle = null;
                }
            }
            store.close();
            store = fixture.open();
            for (String n : open) {
                vols.get(n).handle = store.open(n);
            }
            checkStructure();
            verifyAll(true);
        }

        private void verifyOneSnapshot() throws IOException {
            List<MVol> withSnaps = vols.values().stream().filter(v -> !v.snaps.isEmpty()).toList();
            if (withSnaps.isEmpty()) {
                read();
                return;
            }
            MVol v = pick(withSnaps);
            String sn = pick(new ArrayList<>(v.snaps.keySet()));
            op = "verify snapshot " + v.name + "@" + sn + " through a clone";
            verifySnapshot(v, sn);
        }

        /** Invalid names and missing things, asked of the store in its current state. */
        private void refusals() throws IOException {
            MVol v = pickVol();
            String bad = pick(List.of("", "/", "..", "a/b", "x".repeat(65), "sp ace", "é"));
            op = "refusals (bad name '" + bad + "')";
            expect(Reason.INVALID, () -> store.create(bad, 4096), null);
            expect(Reason.INVALID, () -> store.snapshot(v.name, bad), null);
            if (!v.snaps.isEmpty()) {
                String sn = v.snaps.keySet().iterator().next();
                expect(Reason.INVALID, () -> store.clone(v.name, sn, bad), null);
            }
            expect(Reason.ALREADY_EXISTS, () -> store.create(v.name, 4096), v.name);
            expect(Reason.INVALID, () -> store.create("fresh" + counter, 0), null);
            expect(Reason.NOT_FOUND, () -> store.open("missing" + counter), "missing" + counter);
            expect(Reason.NOT_FOUND, () -> store.resize("missing" + counter, 1 << 20), "missing" + counter);
            expect(Reason.NOT_FOUND, () -> store.snapshot("missing" + counter, "s"), "missing" + counter);
            expect(Reason.NOT_FOUND, () -> store.delete("missing" + counter), "missing" + counter);
            expect(Reason.NOT_FOUND, () -> store.usage("missing" + counter), "missing" + counter);
            assertThat(store.info("missing" + counter)).isEmpty();
        }

        // ---- checks ----

        private int depth(MVol v) {
            int d = 0;
            for (MVol p = v; p.parent != null && d < 100; p = vols.get(p.parent.volume())) {
                d++;
                if (!vols.containsKey(p.parent.volume())) {
                    break;
                }
            }
            return d;
        }

        private List<String> clonesOf(String volume, String snap) {
            SnapshotRef ref = new SnapshotRef(volume, snap);
            return vols.values().stream().filter(c -> ref.equals(c.parent)).map(c -> c.name).toList();
        }

        private void checkStructure() throws IOException {
            List<VolumeInfo> list = store.list();
            Map<String, VolumeInfo> byName = new TreeMap<>();
            for (VolumeInfo vi : list) {
                assertThat(byName.put(vi.name(), vi)).as("list() names %s twice", vi.name()).isNull();
            }
            assertThat(byName.keySet()).as("volumes in list()").isEqualTo(vols.keySet());
            for (MVol v : vols.values()) {
                VolumeInfo vi = byName.get(v.name);
                assertThat(vi.size()).as("size of %s", v.name).isEqualTo(v.data.length);
                assertThat(vi.parent()).as("parent of %s", v.name).isEqualTo(Optional.ofNullable(v.parent));
                Map<String, SnapshotInfo> snaps = new TreeMap<>();
                for (SnapshotInfo si : vi.snapshots()) {
                    snaps.put(si.name(), si);
                    assertThat(si.volume()).isEqualTo(v.name);
                }
                assertThat(snaps.keySet()).as("snapshots of %s", v.name).isEqualTo(new TreeSet<>(v.snaps.keySet()));
                for (var e : v.snaps.entrySet()) {
                    SnapshotInfo si = snaps.get(e.getKey());
                    assertThat(si.size()).as("size of %s@%s", v.name, e.getKey()).isEqualTo(e.getValue().length);
                    assertThat(new HashSet<>(si.clones())).as("clones of %s@%s", v.name, e.getKey())
                            .isEqualTo(new HashSet<>(clonesOf(v.name, e.getKey())));
                }
                if (v.handle != null) {
                    assertThat(v.handle.size()).as("handle size of %s", v.name).isEqualTo(v.data.length);
                }
            }
            if (!vols.isEmpty()) {
                MVol v = pickVol();
                assertThat(store.info(v.name)).as("info(%s)", v.name).contains(byName.get(v.name));
                Usage u = store.usage(v.name);
                assertThat(u.name()).isEqualTo(v.name);
                assertThat(u.virtualBytes()).as("usage of %s", v.name).isEqualTo(v.data.length);
                assertThat(u.allocatedBytes()).isNotNegative();
            }
        }

        private void verifyAll(boolean snapshots) throws IOException {
            for (MVol v : List.copyOf(vols.values())) {
                verifyVolume(v);
            }
            if (snapshots) {
                for (MVol v : List.copyOf(vols.values())) {
                    for (String sn : List.copyOf(v.snaps.keySet())) {
                        verifySnapshot(v, sn);
                    }
                }
            }
        }

        /** Reads the whole volume (in a few randomly cut pieces) and compares it with the model. */
        private void verifyVolume(MVol v) throws IOException {
            boolean temporary = v.handle == null;
            Volume h = temporary ? store.open(v.name) : v.handle;
            try {
                assertThat(h.size()).as("size of %s", v.name).isEqualTo(v.data.length);
                long size = v.data.length;
                long pos = 0;
                while (pos < size) {
                    long len = rnd.nextInt(3) == 0 ? size - pos : Math.min(size - pos, 1 + rnd.nextInt((int) size));
                    checkRange(v, h, pos, (int) len);
                    pos += len;
                }
            } finally {
                if (temporary) {
                    h.close();
                }
            }
        }

        /** Reads a snapshot back through a fresh clone of it. */
        private void verifySnapshot(MVol v, String sn) throws IOException {
            String tmp = "verify-" + (++counter);
            byte[] expected = v.snaps.get(sn);
            store.clone(v.name, sn, tmp);
            try (Volume h = store.open(tmp)) {
                assertThat(h.size()).isEqualTo(expected.length);
                byte[] got = readAll(h, 0, expected.length);
                compare(v.name + "@" + sn + " (read through clone " + tmp + ")", expected, 0, got);
            }
            store.delete(tmp);
        }

        private void checkRange(MVol v, Volume h, long off, int len) throws IOException {
            byte[] got = readAll(h, off, len);
            compare(v.name + " (parent " + v.parent + ")", v.data, off, got);
        }

        private byte[] readAll(Volume h, long off, int len) throws IOException {
            ByteBuffer dst = rnd.nextInt(4) == 0 ? ByteBuffer.allocateDirect(len) : ByteBuffer.allocate(len);
            h.read(off, dst);
            assertThat(dst.remaining()).as("read fills the buffer").isZero();
            byte[] got = new byte[len];
            dst.flip().get(got);
            return got;
        }

        private void compare(String what, byte[] model, long off, byte[] got) {
            int mismatch = Arrays.mismatch(model, (int) off, (int) off + got.length, got, 0, got.length);
            if (mismatch >= 0) {
                long at = off + mismatch;
                int end = mismatch;
                while (end < got.length && got[end] != model[(int) off + end]) {
                    end++;
                }
                fail("%s differs from the model at byte %d (cluster %d, +%d in it); %d bytes differ from there; "
                                + "expected %s..., read %s... (size %d, read of [%d, %d))",
                        what, at, at / cs, at % cs, end - mismatch, hex(model, (int) at),
                        hex(got, mismatch), model.length, off, off + got.length);
            }
        }

        private static String hex(byte[] b, int from) {
            StringBuilder sb = new StringBuilder();
            for (int i = from; i < Math.min(b.length, from + 8); i++) {
                sb.append(String.format("%02x", b[i]));
            }
            return sb.toString();
        }

        @FunctionalInterface
        interface Call {
            void run() throws IOException;
        }

        private StoreException expect(Reason reason, Call call, String named) {
            try {
                call.run();
            } catch (StoreException e) {
                assertThat(e.reason).as("reason of '%s'", e.getMessage()).isEqualTo(reason);
                if (named != null) {
                    assertThat(e.getMessage()).as("message names %s", named).contains(named);
                }
                return e;
            } catch (IOException e) {
                throw new AssertionError("expected StoreException " + reason + ", got " + e, e);
            }
            throw new AssertionError("expected StoreException " + reason + " but the call succeeded");
        }
    }
}
