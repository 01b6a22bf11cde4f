package dev.apiary.lun.file;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.SparseFiles;
import dev.apiary.lun.Volume;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An import reads only what its source holds: a freshly made filesystem image (what the fleet
 * imports as a worker's data volume) is a few MiB of metadata in gigabytes of holes.
 */
class SparseImportTest {
    private static final long TIB = 1L << 40;

    @TempDir
    Path tmp;

    /**
     * 1 TiB with three written places, one of them across a cluster boundary. Reading the holes
     * would take minutes (a TiB of zeros through the page cache), so the bound fails an import
     * that reads them; what the volume reads is checked byte for byte at each place and between.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aTerabyteSourceWithThreeWrittenPlacesImportsThemAndNothingElse() throws IOException {
        Assumptions.assumeTrue(SparseFiles.available(), "lseek(SEEK_DATA) is Linux's");
        Path src = tmp.resolve("fs.raw");
        long[] at = {1024, (64L << 30) + 4096 - 100, TIB - 512};
        byte[][] data = {bytes(4096, 1), bytes(300, 2), bytes(512, 3)};
        try (RandomAccessFile f = new RandomAccessFile(src.toFile(), "rw")) {
            f.setLength(TIB);
            for (int i = 0; i < at.length; i++) {
                f.seek(at[i]);
                f.write(data[i]);
            }
        }
        List<SparseFiles.Extent> extents = SparseFiles.dataExtents(src);
        assertThat(extents).hasSizeBetween(2, 3); // the filesystem's blocks: 4 KiB or more each
        assertThat(extents.stream().mapToLong(e -> e.end() - e.start()).sum()).isLessThan(1 << 20);

        try (FileStore store = FileStore.open(tmp.resolve("store"))) {
            store.importRaw("data", src, (done, total) -> {});
            assertThat(store.usage("data").allocatedBytes()).isLessThan(1 << 20);
            try (Volume v = store.open("data")) {
                assertThat(v.size()).isEqualTo(TIB);
                for (int i = 0; i < at.length; i++) {
                    assertThat(read(v, at[i], data[i].length)).as("place %d", i).isEqualTo(data[i]);
                    assertThat(read(v, at[i] - 8, 8)).as("before place %d", i).isEqualTo(new byte[8]);
                }
                assertThat(read(v, 1L << 39, 4096)).isEqualTo(new byte[4096]);
            }
        }
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] read(Volume v, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        v.read(offset, b);
        return b.array();
    }
}
