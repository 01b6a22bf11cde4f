package dev.apiary.lun.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore.SnapshotRef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RBD store's verbs on the test cluster: refusals, clone/flatten/rollback, usage, import, concurrent I/O. */
class RbdStoreTest {
    private static RbdConfig config;
    private static RbdStore store;

    @BeforeAll
    static void connect() throws IOException {
        config = CephCluster.configOrSkip().withNamespace(CephCluster.uniqueNamespace("store"));
        store = RbdStore.open(config);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (store != null) {
            store.close();
            CephCluster.dropNamespace(config);
        }
    }

    private static StoreException refused(Reason reason, String named, Call call) {
        try {
            call.run();
        } catch (StoreException e) {
            assertThat(e.reason).as("reason of '%s'", e.getMessage()).isEqualTo(reason);
            assertThat(e.getMessage()).contains(named);
            return e;
        } catch (IOException e) {
            throw new AssertionError("expected " + reason + ", got " + e, e);
        }
        throw new AssertionError("expected " + reason + " but the call succeeded");
    }

    @FunctionalInterface
    interface Call {
        void run() throws IOException;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] read(Volume v, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(len);
        v.read(off, b);
        byte[] out = new byte[len];
        b.flip().get(out);
        return out;
    }

    @Test
    void refusalsCarryTheirReasonAndName() throws IOException {
        store.create("e1", 1 << 20);
        refused(Reason.ALREADY_EXISTS, "e1", () -> store.create("e1", 1 << 20));
        refused(Reason.NOT_FOUND, "nosuch", () -> store.open("nosuch"));
        refused(Reason.NOT_FOUND, "nosuch", () -> store.usage("nosuch"));
        refused(Reason.NOT_FOUND, "nosuch", () -> store.delete("nosuch"));
        assertThat(store.info("nosuch")).isEmpty();
        refused(Reason.INVALID, "a/b", () -> store.create("a/b", 1 << 20));
        refused(Reason.INVALID, "e0", () -> store.create("e0", 0));
        refused(Reason.INVALID, "shrinking", () -> store.resize("e1", 4096));
        refused(Reason.INVALID, "not a clone", () -> store.flatten("e1", (d, t) -> {}));
        store.snapshot("e1", "s");
        refused(Reason.ALREADY_EXISTS, "e1@s", () -> store.snapshot("e1", "s"));
        refused(Reason.NOT_FOUND, "e1@nosuch", () -> store.clone("e1", "nosuch", "e1c"));
        store.clone("e1", "s", "e1c");
        refused(Reason.IN_USE, "e1c", () -> store.deleteSnapshot("e1", "s"));
        refused(Reason.IN_USE, "e1c", () -> store.delete("e1"));
        try (Volume v = store.open("e1c")) {
            refused(Reason.IN_USE, "e1c", () -> store.delete("e1c"));
            store.snapshot("e1c", "t");
            refused(Reason.IN_USE, "e1c", () -> store.rollback("e1c", "t"));
            refused(Reason.INVALID, "[t]", () -> store.flatten("e1c", (d, t) -> {}));
        }
        // Open in another client (another gateway): RBD sees its watch on the image.
        try (RbdStore other = RbdStore.open(config); Volume v = other.open("e1c")) {
            refused(Reason.IN_USE, "another client", () -> store.delete("e1c"));
            refused(Reason.IN_USE, "another client", () -> store.rollback("e1c", "t"));
        }
        store.delete("e1c"); // with its snapshot t
        store.deleteSnapshot("e1", "s");
        store.delete("e1");
        assertThat(store.list()).extracting(v -> v.name()).doesNotContain("e1", "e1c");
    }

    @Test
    void cloneFlattenAndRollback() throws IOException {
        int size = 12 << 20;
        byte[] golden = new byte[size];
        System.arraycopy(random(6 << 20, 1), 0, golden, 1000, 6 << 20); // crosses object boundaries, unaligned
        store.create("g", size);
        try (Volume v = store.open("g")) {
            v.write(1000, ByteBuffer.wrap(golden, 1000, 6 << 20), true);
        }
        store.snapshot("g", "v1");
        assertThat(store.clone("g", "v1", "w1").parent()).contains(new SnapshotRef("g", "v1"));
        byte[] clone = golden.clone();
        try (Volume w = store.open("w1")) {
            assertThat(read(w, 0, size)).as("a new clone reads its snapshot").isEqualTo(golden);
            byte[] b = random(300_000, 2);
            w.write((4 << 20) - 1000, ByteBuffer.wrap(b), false);
            System.arraycopy(b, 0, clone, (4 << 20) - 1000, b.length);
            w.unmap(2 << 20, 5000); // over parent data: must read as zeros, not as the parent
            Arrays.fill(clone, 2 << 20, (2 << 20) + 5000, (byte) 0);
            assertThat(read(w, 0, size)).isEqualTo(clone);
            List<Long> progress = new ArrayList<>();
            store.flatten("w1", (done, total) -> {
                assertThat(total).isEqualTo(size);
                progress.add(done);
            });
            assertThat(progress).isSorted().last().isEqualTo((long) size);
            assertThat(store.info("w1").orElseThrow().parent()).isEmpty();
            assertThat(read(w, 0, size)).as("flattened, still open").isEqualTo(clone);
        }
        try (Volume v = store.open("g")) {
            assertThat(read(v, 0, size)).as("the parent is untouched by its clone").isEqualTo(golden);
        }
        store.deleteSnapshot("g", "v1"); // no clone depends on it any more
        store.snapshot("g", "v2");
        store.resize("g", size + (1 << 20));
        try (Volume v = store.open("g")) {
            v.write(0, ByteBuffer.wrap(random(1 << 20, 3)), true);
            v.write(size, ByteBuffer.wrap(random(4096, 4)), true);
        }
        store.rollback("g", "v2");
        try (Volume v = store.open("g")) {
            assertThat(v.size()).as("rollback restores the size").isEqualTo(size);
            assertThat(read(v, 0, size)).isEqualTo(golden);
        }
        store.resize("g", size + (1 << 20));
        try (Volume v = store.open("g")) {
            assertThat(read(v, size, 1 << 20)).as("grown after rollback: zeros").isEqualTo(new byte[1 << 20]);
        }
        store.delete("w1");
        store.delete("g");
    }

    @Test
    void usageCountsTheVolumesOwnObjects() throws IOException {
        store.create("u", 16 << 20);
        assertThat(store.usage("u").allocatedBytes()).as("a new volume").isZero();
        try (Volume v = store.open("u")) {
            v.write(0, ByteBuffer.wrap(random(64 << 10, 5)), true);
        }
        // RBD objects are sparse; usage counts each object's length, as rbd du does per object.
        assertThat(store.usage("u").allocatedBytes()).isBetween(64L << 10, 4L << 20);
        assertThat(store.usage("u").virtualBytes()).isEqualTo(16 << 20);
        store.snapshot("u", "s");
        store.clone("u", "s", "uc");
        assertThat(store.usage("uc").allocatedBytes()).as("a new clone owns nothing").isZero();
        try (Volume c = store.open("uc")) {
            c.write(9 << 20, ByteBuffer.wrap(new byte[] {1}), true); // outside the parent's data: one object
        }
        assertThat(store.usage("uc").allocatedBytes()).isBetween(1L, 4L << 20);
        assertThat(store.usage("u").allocatedBytes()).as("the parent's usage is unchanged").isBetween(64L << 10, 4L << 20);
        store.delete("uc");
        store.delete("u");
    }

    @Test
    void importWritesOnlyNonZeroBlocks(@TempDir Path dir) throws IOException {
        int size = (10 << 20) + 512;
        byte[] raw = new byte[size];
        System.arraycopy(random(70_000, 6), 0, raw, 0, 70_000);
        System.arraycopy(random(5000, 7), 0, raw, 9 << 20, 5000);
        raw[size - 1] = 9;
        Path f = dir.resolve("golden.raw");
        Files.write(f, raw);
        List<long[]> progress = new ArrayList<>();
        store.importRaw("imp", f, (done, total) -> progress.add(new long[] {done, total}));
        assertThat(progress.get(progress.size() - 1)).containsExactly(size, size);
        try (Volume v = store.open("imp")) {
            assertThat(v.size()).isEqualTo(size);
            assertThat(read(v, 0, size)).isEqualTo(raw);
        }
        assertThat(store.usage("imp").allocatedBytes()).as("zero blocks stay unwritten").isLessThan(size / 2);
        store.delete("imp");
    }

    /** Many threads with I/O in flight at once on one volume, each on its own region, checked byte for byte. */
    @Test
    void concurrentIoIsByteExact() throws Exception {
        int threads = 8;
        int region = 4 << 20;
        store.create("par", (long) threads * region);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (Volume v = store.open("par")) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    Random rnd = new Random(100 + id);
                    byte[] model = new byte[region];
                    long base = (long) id * region;
                    int ops = 0;
                    for (; ops < 150 && System.nanoTime() < deadline; ops++) {
                        int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 4096 : 256 << 10);
                        int off = rnd.nextInt(region - len + 1);
                        if (rnd.nextInt(5) == 0) {
                            v.unmap(base + off, len);
                            Arrays.fill(model, off, off + len, (byte) 0);
                        } else {
                            byte[] b = random(len, rnd.nextLong());
                            ByteBuffer src = rnd.nextBoolean() ? ByteBuffer.wrap(b)
                                    : ByteBuffer.allocateDirect(len).put(b).flip();
                            v.write(base + off, src, rnd.nextInt(8) == 0);
                            System.arraycopy(b, 0, model, off, len);
                        }
                        int roff = rnd.nextInt(region - 8192);
                        ByteBuffer dst = rnd.nextBoolean() ? ByteBuffer.allocate(8192) : ByteBuffer.allocateDirect(8192);
                        v.read(base + roff, dst);
                        byte[] got = new byte[8192];
                        dst.flip().get(got);
                        assertThat(got).as("thread %d op %d read at %d", id, ops, roff)
                                .isEqualTo(Arrays.copyOfRange(model, roff, roff + 8192));
                    }
                    assertThat(read(v, base, region)).as("region of thread %d", id).isEqualTo(model);
                    return ops;
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            assertThat(total).isGreaterThan(threads * 10);
        } finally {
            pool.shutdownNow();
        }
        assertThat(Aio.pending()).as("aio operations left pending").isZero();
        store.delete("par");
    }
}
