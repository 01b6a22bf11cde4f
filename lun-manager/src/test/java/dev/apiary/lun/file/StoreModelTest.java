package dev.apiary.lun.file;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.StoreModel;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.VolumeStore.Usage;
import dev.apiary.lun.VolumeStore.VolumeInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StoreModel} against {@link FileStore}, with the cluster size and the shared cache varied
 * by seed. Replay: {@code -Dstore.model.seed=123 -Dstore.model.steps=5000}, optionally
 * {@code -Dstore.model.clusterSize=512}.
 */
class StoreModelTest {
    static LongStream seeds() {
        return StoreModel.seeds(8);
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void randomOperationsMatchTheModel(long seed, @TempDir Path dir) throws Exception {
        int cs = Integer.getInteger("store.model.clusterSize", (seed & 1) == 0 ? 512 : 4096);
        // Cache off, tiny (constant eviction) or comfortable, by seed.
        long cache = switch ((int) Math.floorMod(seed, 3L)) {
            case 0 -> 0;
            case 1 -> 8L * cs;
            default -> 4L << 20;
        };
        FileStore.Options options = new FileStore.Options(cs, cache);
        StoreModel.run(seed, StoreModel.steps(300), dir, new StoreModel.Fixture() {
            @Override
            public VolumeStore open() throws IOException {
                return FileStore.open(dir.resolve("store"), options);
            }

            @Override
            public int granularity() {
                return cs;
            }

            @Override
            public String describe() {
                return "FileStore clusterSize=" + cs + " cacheBytes=" + cache;
            }
        });
    }

    /** rbd du: a volume's allocated bytes are its own layers' data, not its parent's. */
    @Test
    void usageCountsOnlyAVolumesOwnData(@TempDir Path dir) throws IOException {
        int cs = 4096;
        try (FileStore store = FileStore.open(dir.resolve("store"), new FileStore.Options(cs, 1 << 20))) {
            store.create("v", 1 << 20);
            assertThat(store.usage("v").allocatedBytes()).as("a new sparse volume").isZero();
            byte[] data = new byte[64 << 10];
            new Random(5).nextBytes(data);
            try (Volume v = store.open("v")) {
                v.write(0, ByteBuffer.wrap(data), true);
            }
            assertThat(store.usage("v")).isEqualTo(new Usage("v", store.usage("v").allocatedBytes(), 1 << 20));
            assertThat(store.usage("v").allocatedBytes()).isBetween(64L << 10, 128L << 10);
            store.snapshot("v", "s");
            VolumeInfo c = store.clone("v", "s", "c");
            assertThat(c.size()).isEqualTo(1 << 20);
            assertThat(store.usage("c").allocatedBytes()).as("a new clone owns nothing").isZero();
            try (Volume h = store.open("c")) {
                h.write(512L << 10, ByteBuffer.wrap(new byte[] {1}), true); // one cluster copied up
            }
            assertThat(store.usage("c").allocatedBytes()).as("a clone with one cluster of its own").isEqualTo(cs);
            store.flatten("c", (d, t) -> {});
            assertThat(store.usage("c").allocatedBytes()).as("a flattened clone owns all its data")
                    .isGreaterThanOrEqualTo((64L << 10) + cs);
            assertThat(store.usage("v").allocatedBytes()).as("the parent's usage is unchanged by its clone")
                    .isBetween(64L << 10, 128L << 10);
        }
    }
}
