package dev.apiary.lun.file;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.Volume;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DESIGN.md: a boot storm reads the golden image once. Disk reads are counted below the shared cache. */
class SharedCacheTest {
    @TempDir
    Path dir;

    @Test
    void tenClonesReadingTheSameBlocksReadTheGoldenLayerOnce() throws Exception {
        int boot = 8 << 20;
        try (FileStore store = FileStore.open(dir, new FileStore.Options(4096, 64L << 20))) {
            store.create("golden", 32 << 20);
            byte[] content = new byte[boot];
            new Random(3).nextBytes(content);
            try (Volume g = store.open("golden")) {
                g.write(0, ByteBuffer.wrap(content), true);
            }
            store.snapshot("golden", "v1");
            List<Volume> clones = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                store.clone("golden", "v1", "w" + i);
                clones.add(store.open("w" + i));
            }
            long before = store.diskReadBytes();
            for (Volume c : clones) {
                ByteBuffer b = ByteBuffer.allocate(boot);
                for (int off = 0; off < boot; off += 128 << 10) {
                    c.read(off, b.slice(off, 128 << 10));
                }
                assertThat(b.array()).isEqualTo(content);
            }
            long read = store.diskReadBytes() - before;
            assertThat(read).as("bytes read from layer files by 10 clones reading the same 8 MiB").isEqualTo(boot);
            for (Volume c : clones) {
                c.close();
            }
        }
    }

    @Test
    void aCacheTooSmallStillReturnsTheRightData() throws Exception {
        try (FileStore store = FileStore.open(dir, new FileStore.Options(4096, 64 << 10))) {
            store.create("golden", 4 << 20);
            byte[] content = new byte[4 << 20];
            new Random(5).nextBytes(content);
            try (Volume g = store.open("golden")) {
                g.write(0, ByteBuffer.wrap(content), true);
            }
            store.snapshot("golden", "v1");
            store.clone("golden", "v1", "w");
            try (Volume w = store.open("w")) {
                for (int round = 0; round < 3; round++) {
                    ByteBuffer b = ByteBuffer.allocate(content.length);
                    w.read(0, b);
                    assertThat(b.array()).isEqualTo(content);
                }
            }
        }
    }
}
