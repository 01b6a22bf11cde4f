package dev.apiary.server;

import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.iscsi.portal.Warmup;
import dev.apiary.lun.CountingVolume;
import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Warmup} at start-up against what a worker's root is: a copy-on-write clone of a
 * sealed snapshot in a file store, wrapped as the export publisher wraps it, so the code the JIT
 * compiles (and the types it sees at each call) are those of a real boot. The scratch store lives
 * in {@code dir} and is deleted afterwards; a warm-up that fails is logged and never stops the
 * server.
 */
final class TargetWarmup {
    private static final Logger log = LoggerFactory.getLogger(TargetWarmup.class);
    private static final long SIZE = 64L << 20;
    private static final Duration BUDGET = Duration.ofSeconds(20);

    private TargetWarmup() {}

    static void run(TargetServer target, Path dir, int commands) {
        if (commands <= 0) {
            return;
        }
        try {
            deleteTree(dir);
            try (FileStore store = FileStore.open(dir)) {
                store.create("base", SIZE);
                try (Volume base = store.open("base")) {
                    ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                    SplittableRandom r = new SplittableRandom(7);
                    for (long off = 0; off < SIZE; off += 2L * chunk.capacity()) { // every other MiB: data, then a hole
                        chunk.clear();
                        while (chunk.hasRemaining()) {
                            chunk.putLong(r.nextLong());
                        }
                        base.write(off, chunk.flip(), false);
                    }
                    base.flush();
                }
                store.snapshot("base", "sealed");
                store.clone("base", "sealed", "root");
                try (Volume root = new CountingVolume(store.open("root"))) {
                    Warmup.Report w = Warmup.run(target, root, commands, BUDGET);
                    log.info("[target] warmed up: {} reads and writes and {} other commands over loopback in {} ms{}",
                            w.commands(), w.others(), w.took().toMillis(),
                            w.failed() == 0 ? "" : " (" + w.failed() + " failed)");
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("[target] warm-up skipped: {}", e.toString());
        } finally {
            try {
                deleteTree(dir);
            } catch (IOException e) {
                log.warn("[target] could not remove the warm-up store {}: {}", dir, e.toString());
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
