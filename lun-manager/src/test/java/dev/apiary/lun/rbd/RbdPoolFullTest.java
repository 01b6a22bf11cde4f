package dev.apiary.lun.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeFullException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A pool that runs out of room (its quota reached): writes fail as a full volume within the op
 * timeout (the target answers SPACE ALLOCATION FAILED, not a medium error, and nothing hangs),
 * the store's health says POOL_FULL, and once there is room again writes go on and every write
 * that was acknowledged is there. Its own pool, removed afterwards (quotas are per pool).
 */
class RbdPoolFullTest {
    private static final int MIB = 1 << 20;
    private static RbdConfig config;
    private static String pool;

    @BeforeAll
    static void cluster() throws IOException {
        RbdConfig base = CephCluster.configOrSkip();
        pool = "apiary-full-" + ProcessHandle.current().pid();
        config = new RbdConfig(base.conf(), base.clientId(), base.keyring(), pool, "", Duration.ofSeconds(5));
        try (RbdStore admin = RbdStore.open(base)) {
            admin.monCommand("{\"prefix\": \"osd pool create\", \"pool\": \"" + pool + "\", \"pg_num\": 8}");
            admin.monCommand("{\"prefix\": \"osd pool application enable\", \"pool\": \"" + pool + "\", \"app\": \"rbd\"}");
        }
    }

    @AfterAll
    static void dropPool() throws IOException {
        if (pool == null) {
            return;
        }
        try (RbdStore admin = RbdStore.open(CephCluster.configOrSkip())) {
            admin.monCommand("{\"prefix\": \"osd pool rm\", \"pool\": \"" + pool + "\", \"pool2\": \"" + pool
                    + "\", \"yes_i_really_really_mean_it\": true}");
        }
    }

    private static void quota(RbdStore store, long bytes) throws IOException {
        store.monCommand("{\"prefix\": \"osd pool set-quota\", \"pool\": \"" + pool
                + "\", \"field\": \"max_bytes\", \"val\": \"" + bytes + "\"}");
    }

    @Test
    void writesToAFullPoolFailAsAFullVolumeWithinTheOpTimeoutAndGoOnOnceThereIsRoom() throws Exception {
        byte[] data = new byte[MIB];
        new Random(11).nextBytes(data);
        try (RbdStore store = RbdStore.open(config)) {
            quota(store, 16L * MIB);
            store.create("v", 512L * MIB);
            Volume v = store.open("v");
            // The monitors notice a quota a few seconds after the OSDs report the usage: write a MiB
            // every 100 ms until a write is refused, at most 512 of them or 120 s.
            VolumeFullException full = null;
            int acked = 0;
            long failedAfterMs = -1;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (acked < 512 && System.nanoTime() < deadline) {
                long t0 = System.nanoTime();
                try {
                    v.write((long) acked * MIB, ByteBuffer.wrap(data), false);
                } catch (VolumeFullException e) {
                    full = e;
                    failedAfterMs = (System.nanoTime() - t0) / 1_000_000;
                    break;
                }
                acked++;
                Thread.sleep(100);
            }
            assertThat(full).as("a write failed as full after %d acknowledged MiB", acked).isNotNull();
            assertThat(full.getMessage()).contains("pool " + pool + " is full");
            assertThat(failedAfterMs).as("the write failed within the op timeout, with slack").isLessThan(15_000);
            assertThat(acked).isGreaterThanOrEqualTo(8);

            StoreHealth h = store.health();
            assertThat(h.status()).isNotEqualTo(StoreHealth.Status.OK);
            assertThat(String.join("\n", h.problems())).contains("POOL_FULL");

            // Room again: writes go on, and every acknowledged MiB is there.
            quota(store, 0);
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            for (boolean written = false; !written; ) {
                try {
                    v.write((long) acked * MIB, ByteBuffer.wrap(data), false);
                    written = true;
                } catch (VolumeFullException e) {
                    assertThat(System.nanoTime()).as("writes never resumed after the quota was lifted").isLessThan(until);
                    Thread.sleep(500);
                }
            }
            for (int i = 0; i <= acked; i++) {
                ByteBuffer b = ByteBuffer.allocate(MIB);
                v.read((long) i * MIB, b);
                assertThat(Arrays.equals(b.array(), data)).as("MiB %d", i).isTrue();
            }
            v.close(); // the image goes with the pool (dropPool): a write librados held may keep its watch a while
        }
    }
}
