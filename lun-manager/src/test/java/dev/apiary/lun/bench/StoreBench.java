package dev.apiary.lun.bench;

import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileStore;
import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The store benchmarks of docs/benchmarks.md, run by integration/bench/store-bench.sh (never by
 * the test suite): clone time against image size, and 4 KiB random writes into a fresh clone
 * against the same into a plain file volume, alternated, medians quoted.
 *
 * <p>Usage: StoreBench DIR [seconds per run] [rounds]
 */
public final class StoreBench {
    private StoreBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Files.createDirectories(dir);
        cloneTimes(dir.resolve("clone-store"));
        writeOverhead(dir, seconds, rounds);
    }

    /** A golden image of each size gets 64 MiB of data spread over it, a snapshot, then 21 clones timed. */
    static void cloneTimes(Path storeDir) throws IOException {
        System.out.println("| image size | clone median ms | clone max ms | clones |");
        System.out.println("|---:|---:|---:|---:|");
        try (FileStore store = FileStore.open(storeDir)) {
            for (long gib : new long[] {1, 4, 16, 64}) {
                String golden = "golden" + gib;
                store.create(golden, gib << 30);
                try (Volume v = store.open(golden)) {
                    byte[] chunk = new byte[1 << 20];
                    Arrays.fill(chunk, (byte) 7);
                    for (int i = 0; i < 64; i++) {
                        v.write((gib << 30) / 64 * i, ByteBuffer.wrap(chunk), false);
                    }
                    v.flush();
                }
                store.snapshot(golden, "v1");
                List<Long> nanos = new ArrayList<>();
                for (int i = 0; i < 21; i++) {
                    long t = System.nanoTime();
                    store.clone(golden, "v1", golden + "-w" + i);
                    nanos.add(System.nanoTime() - t);
                }
                nanos.remove(0); // the first one warms the JIT
                nanos.sort(null);
                System.out.printf("| %d GiB | %.2f | %.2f | %d |%n", gib, nanos.get(nanos.size() / 2) / 1e6,
                        nanos.get(nanos.size() - 1) / 1e6, nanos.size());
            }
        }
    }

    /** 4 threads of 4 KiB random writes for {@code seconds}: IOPS. */
    static double randomWrites(Volume v, int seconds) throws Exception {
        long blocks = v.size() / 4096;
        AtomicLong ops = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        List<Exception> errors = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(4096);
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try {
                    while (System.nanoTime() < end) {
                        b.clear();
                        v.write(r.nextLong(blocks) * 4096, b, false);
                        ops.incrementAndGet();
                    }
                } catch (Exception e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        if (!errors.isEmpty()) {
            throw errors.get(0);
        }
        v.flush();
        return ops.get() / (double) seconds;
    }

    static void writeOverhead(Path dir, int seconds, int rounds) throws Exception {
        long size = 1L << 30;
        List<Double> file = new ArrayList<>();
        List<Double> clone = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            Path f = dir.resolve("plain-" + round + ".img");
            try (FileVolume v = FileVolume.openOrCreate(f, size)) {
                file.add(randomWrites(v, seconds));
            }
            Files.delete(f);
            Path sd = dir.resolve("write-store-" + round);
            try (FileStore store = FileStore.open(sd)) {
                store.create("golden", size);
                store.snapshot("golden", "v1");
                store.clone("golden", "v1", "w");
                try (Volume v = store.open("w")) {
                    clone.add(randomWrites(v, seconds));
                }
            }
        }
        file.sort(null);
        clone.sort(null);
        double f = file.get(file.size() / 2);
        double c = clone.get(clone.size() / 2);
        System.out.println();
        System.out.println("| 4 KiB random write, 4 threads | median IOPS | runs |");
        System.out.println("|---|---:|---|");
        System.out.printf("| plain file volume | %.0f | %s |%n", f, fmt(file));
        System.out.printf("| fresh clone of a 1 GiB snapshot | %.0f | %s |%n", c, fmt(clone));
        System.out.printf("| overhead (file/clone) | %.2fx | |%n", f / c);
    }

    private static String fmt(List<Double> l) {
        return l.stream().map(d -> String.format("%.0f", d)).toList().toString();
    }
}
