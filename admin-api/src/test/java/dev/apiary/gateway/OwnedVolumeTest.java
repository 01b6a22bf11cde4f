package dev.apiary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileVolume;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway's ownership of a volume as writes meet it: a write to a volume this gateway does not
 * own claims it first, and the claim (which on RBD waits on the cluster) never holds up the thread
 * that submitted the write, since that may be the target's network thread.
 */
class OwnedVolumeTest {
    @TempDir
    Path dir;

    @Test
    void aWriteThatClaimsTheVolumeReturnsAtOnceAndLandsAfterTheClaim() throws Exception {
        CountDownLatch claimGoesOn = new CountDownLatch(1);
        List<String> claimedBy = new ArrayList<>();
        try (FileVolume file = FileVolume.openOrCreate(dir.resolve("v.img"), 1 << 20)) {
            OwnedVolume v = new OwnedVolume("fleet.w1.data", file, (volume, broken) -> {
                claimedBy.add(Thread.currentThread().getName());
                await(claimGoesOn); // a cluster slow to break the old owner's lock
            });
            assertThat(v.owner()).isFalse();

            byte[] data = new byte[4096];
            data[0] = 42;
            CompletableFuture<Void> write = v.writeAsync(0, ByteBuffer.wrap(data), false).toCompletableFuture();
            assertThat(write).as("the submitting thread does not wait for the claim").isNotDone();

            claimGoesOn.countDown();
            write.get(10, TimeUnit.SECONDS);
            assertThat(v.owner()).isTrue();
            assertThat(v.claim()).as("owned by its own claim until the configuration says so").isTrue();
            assertThat(claimedBy).hasSize(1).allSatisfy(t -> assertThat(t).isEqualTo("gateway-claim"));
            assertThat(read(file)).isEqualTo((byte) 42);

            // The owner writes at once, with no second claim.
            data[0] = 43;
            v.writeAsync(0, ByteBuffer.wrap(data), false).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(claimedBy).hasSize(1);
            assertThat(read(file)).isEqualTo((byte) 43);
        }
    }

    private static byte read(Volume v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(512);
        v.read(0, b);
        return b.get(0);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
