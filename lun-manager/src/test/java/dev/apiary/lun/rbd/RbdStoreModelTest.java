package dev.apiary.lun.rbd;

import dev.apiary.lun.StoreModel;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StoreModel} against {@link RbdStore} on the test cluster: the same operations and checks
 * as the file store's model test, so the two stores keep one contract. Fewer seeds and steps than
 * the file store (every step is several cluster round trips); run longer with
 * {@code -Dstore.model.seed=1,2,3 -Dstore.model.steps=400}. Each seed works in a namespace of its own.
 */
class RbdStoreModelTest {
    private static RbdConfig base;

    @BeforeAll
    static void cluster() {
        base = CephCluster.configOrSkip();
    }

    static LongStream seeds() {
        return StoreModel.seeds(2);
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void randomOperationsMatchTheModel(long seed, @TempDir Path dir) throws Exception {
        RbdConfig config = base.withNamespace(CephCluster.uniqueNamespace("model-" + seed));
        try {
            StoreModel.run(seed, StoreModel.steps(60), dir, new StoreModel.Fixture() {
                @Override
                public VolumeStore open() throws IOException {
                    return RbdStore.open(config);
                }

                @Override
                public int granularity() {
                    return (seed & 1) == 0 ? 512 : 4096; // sector and page edges; RBD objects are 4 MiB
                }

                @Override
                public String describe() {
                    return "RbdStore " + config.spec("") + " granularity=" + granularity();
                }
            });
        } finally {
            CephCluster.dropNamespace(config);
        }
    }

    @AfterAll
    static void done() {
        base = null;
    }
}
