package dev.apiary.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.fleet.ExtlinuxDisks;
import dev.apiary.lun.file.FileStore;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The boot warm-up streams the image's real kernel and initrd, and leaves nothing behind in the store. */
class BootWarmupTest {
    @TempDir
    Path dir;

    @Test
    void streamsTheImagesKernelAndInitrdToFourMachinesTwiceAndDropsItsClone() throws Exception {
        byte[] kernel = new byte[2 << 20], initrd = new byte[3 << 20];
        new Random(3).nextBytes(kernel);
        new Random(4).nextBytes(initrd);
        Vertx vertx = Vertx.vertx();
        try (FileStore store = FileStore.open(dir.resolve("store"))) {
            store.importRaw("debian", ExtlinuxDisks.build(dir, "debian", kernel, initrd, "APPEND ro"), (d, t) -> {});
            store.snapshot("debian", "v1");
            store.create("blank", 8 << 20);
            store.snapshot("blank", "v1");
            assertThat(BootWarmup.run(vertx, store, "debian@v1", dir.resolve("w"))).isEqualTo(2L * 4 * (kernel.length + initrd.length));
            assertThat(BootWarmup.run(vertx, store, "blank@v1", dir.resolve("w"))).as("no kernel to serve").isZero();
            assertThat(BootWarmup.run(vertx, store, "missing@v1", dir.resolve("w"))).isZero();
            assertThat(BootWarmup.run(vertx, store, null, dir.resolve("w"))).isZero();
            assertThat(store.list()).extracting(v -> v.name()).containsExactlyInAnyOrder("debian", "blank");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
