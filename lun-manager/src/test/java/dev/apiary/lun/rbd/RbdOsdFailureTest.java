package dev.apiary.lun.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.apiary.lun.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of one OSD in the middle of a write load: with size 3 / min_size 2 the I/O goes on, and
 * every write that was acknowledged reads back, before and after the OSD is restarted (by up.sh,
 * which also waits for the cluster to be clean again). Needs up.sh's cluster, for its pid files.
 */
class RbdOsdFailureTest {
    private static final int THREADS = 4;
    private static final int BLOCK = 16 << 10;
    private static final int BLOCKS_PER_THREAD = 256; // 4 MiB each
    private static final int MAX_WRITES_PER_THREAD = 400;
    private static final long LOAD_SECONDS = 20;

    private static RbdConfig config;

    @BeforeAll
    static void cluster() {
        config = CephCluster.configOrSkip().withNamespace(CephCluster.uniqueNamespace("osdkill"));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (config != null) {
            CephCluster.dropNamespace(config);
        }
    }

    private static byte[] content(long seed) {
        byte[] b = new byte[BLOCK];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void acknowledgedWritesSurviveAnOsdKill() throws Exception {
        Path pidFile = CephCluster.dataDir().resolve("run/osd.1.pid");
        Path up = CephCluster.upScript();
        assumeTrue(Files.isReadable(pidFile) && up != null, "needs up.sh's cluster (pid file " + pidFile + ")");
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        assumeTrue(Files.readString(Path.of("/proc/" + pid + "/comm")).trim().equals("ceph-osd"),
                "pid " + pid + " in " + pidFile + " is not a ceph-osd");

        // Block index -> seed of the last acknowledged write. Each thread owns its blocks and writes
        // them one at a time, so "last acknowledged" is well defined.
        Map<Integer, Long> acked = new ConcurrentHashMap<>();
        AtomicInteger afterKill = new AtomicInteger();
        AtomicLong killedAt = new AtomicLong();
        boolean restarted = false;
        try (RbdStore store = RbdStore.open(config)) {
            store.create("load", (long) THREADS * BLOCKS_PER_THREAD * BLOCK);
            try (Volume v = store.open("load")) {
                ExecutorService pool = Executors.newFixedThreadPool(THREADS);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LOAD_SECONDS);
                List<Future<Integer>> writers = new ArrayList<>();
                try {
                    for (int t = 0; t < THREADS; t++) {
                        int id = t;
                        writers.add(pool.submit(() -> {
                            Random rnd = new Random(id);
                            int n = 0;
                            for (; n < MAX_WRITES_PER_THREAD && System.nanoTime() < deadline; n++) {
                                int blockNo = id * BLOCKS_PER_THREAD + rnd.nextInt(BLOCKS_PER_THREAD);
                                long seed = ((long) id << 32) | n;
                                v.write((long) blockNo * BLOCK, ByteBuffer.wrap(content(seed)), rnd.nextInt(4) == 0);
                                acked.put(blockNo, seed);
                                if (killedAt.get() != 0) {
                                    afterKill.incrementAndGet();
                                }
                            }
                            return n;
                        }));
                    }
                    // Kill once the load runs, then let it go on degraded for a while.
                    while (acked.size() < 40 && System.nanoTime() < deadline) {
                        Thread.sleep(10);
                    }
                    new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start().waitFor();
                    killedAt.set(System.nanoTime());
                    int total = 0;
                    for (Future<Integer> f : writers) {
                        total += f.get(LOAD_SECONDS + 60, TimeUnit.SECONDS);
                    }
                    System.out.printf("RbdOsdFailureTest: %d writes, %d acknowledged after kill -9 of osd.1 (pid %d)%n",
                            total, afterKill.get(), pid);
                } finally {
                    pool.shutdownNow();
                }
                assertThat(afterKill.get()).as("writes acknowledged while an OSD was down").isPositive();
                verify(v, acked, "with osd.1 down");
            }
            restart(up);
            restarted = true;
            try (Volume v = store.open("load")) {
                verify(v, acked, "after osd.1 was restarted and recovered");
            }
            store.delete("load");
        } finally {
            if (killedAt.get() != 0 && !restarted) {
                restart(up); // the cluster is whole again for the tests after this one
            }
        }
    }

    private static void verify(Volume v, Map<Integer, Long> acked, String when) throws IOException {
        for (var e : acked.entrySet()) {
            ByteBuffer b = ByteBuffer.allocate(BLOCK);
            v.read((long) e.getKey() * BLOCK, b);
            assertThat(b.array()).as("block %d %s", e.getKey(), when).isEqualTo(content(e.getValue()));
        }
    }

    /** up.sh restarts the missing OSD and returns once the cluster is HEALTH_OK. */
    private static void restart(Path up) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("timeout", "150", up.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("up.sh output:%n%s", out).isZero();
        assertThat(out).contains("CEPH READY");
        System.out.print(out.lines().filter(l -> l.contains("started") || l.contains("READY"))
                .map(l -> "RbdOsdFailureTest: " + l + "\n").reduce("", String::concat));
    }
}
