package dev.apiary.lun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.StoreHealth.Status;
import dev.apiary.lun.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store's space and status: Ceph's nearfull (85 %) and full (95 %) ratios, and the file store's filesystem. */
class StoreHealthTest {
    @Test
    void spaceIsOkThenNearfullThenFull() {
        assertThat(StoreHealth.ofSpace("file", "/d", 84, 16).status()).isEqualTo(Status.OK);
        StoreHealth near = StoreHealth.ofSpace("file", "/d", 85, 15);
        assertThat(near.status()).isEqualTo(Status.WARN);
        assertThat(near.problems()).containsExactly("NEARFULL: 85% used");
        StoreHealth full = StoreHealth.ofSpace("file", "/d", 95, 5);
        assertThat(full.status()).isEqualTo(Status.ERROR);
        assertThat(full.problems()).containsExactly("FULL: 95% used");
        assertThat(StoreHealth.ofSpace("file", "/d", 0, 0).status()).as("an empty pool").isEqualTo(Status.OK);
    }

    @Test
    void theFileStoreReportsTheFilesystemThatHoldsIt(@TempDir Path dir) throws Exception {
        try (FileStore store = FileStore.open(dir.resolve("store"))) {
            StoreHealth h = store.health();
            java.nio.file.FileStore fs = Files.getFileStore(dir);
            assertThat(h.type()).isEqualTo("file");
            assertThat(h.where()).isEqualTo(dir.resolve("store").toString());
            assertThat(h.availableBytes()).isPositive().isLessThanOrEqualTo(fs.getTotalSpace());
            assertThat(h.usedBytes() + h.availableBytes()).isEqualTo(fs.getTotalSpace());
            assertThat(h.status()).isEqualTo(StoreHealth.ofSpace("file", "x", h.usedBytes(), h.availableBytes()).status());
        }
    }
}
