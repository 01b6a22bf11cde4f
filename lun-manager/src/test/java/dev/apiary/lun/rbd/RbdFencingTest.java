package dev.apiary.lun.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.StoreHealth;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RBD store when something goes wrong: a second gateway fencing the first, a cluster that does
 * not answer, an OSD killed under write load. These disturb the test cluster (pause flags, a dead
 * OSD) and put it back before they return.
 */
class RbdFencingTest {
    private static RbdConfig config;

    @BeforeAll
    static void cluster() {
        config = CephCluster.configOrSkip().withNamespace(CephCluster.uniqueNamespace("fence"));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (config != null) {
            CephCluster.dropNamespace(config);
        }
    }

    private static ByteBuffer block(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    private static byte[] read(Volume v, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        v.read(off, b);
        return b.array();
    }

    /** Gateway A holds the lock; B blocklists A, breaks the lock and takes over; A can no longer write. */
    @Test
    void blocklistingTheLockOwnerFencesItsWrites() throws IOException {
        try (RbdStore a = RbdStore.open(config); RbdStore b = RbdStore.open(config)) {
            a.create("shared", 8 << 20);
            String addressA = a.clientAddress();
            RbdVolume va = (RbdVolume) a.open("shared");
            RbdVolume vb = (RbdVolume) b.open("shared");
            try {
                va.lockAcquire();
                va.write(0, block(4096, 1), true);
                assertThat(va.isLockOwner()).isTrue();
                assertThat(vb.lockOwners()).containsExactly(addressA);
                assertThat(vb.watchers()).extracting(RbdVolume.Watcher::address).contains(addressA);

                StoreException busy = (StoreException) catchIo(vb::lockAcquire);
                assertThat(busy.reason).isEqualTo(Reason.IN_USE);
                assertThat(busy.getMessage()).contains(addressA);
                assertThat(catchIo(() -> vb.write(0, block(4096, 2), true))).hasMessageContaining("EROFS");

                b.blocklist(addressA, Duration.ofMinutes(10));
                vb.lockBreak(vb.lockOwners().get(0));
                vb.lockAcquire();
                assertThat(vb.isLockOwner()).isTrue();
                vb.write(0, block(4096, 3), true);

                assertThat(catchIo(() -> va.write(0, block(4096, 4), true))).hasMessageContaining("blocklisted");
                assertThat(catchIo(() -> va.read(0, ByteBuffer.allocate(4096)))).hasMessageContaining("blocklisted");
                assertThat(read(vb, 0, 4096)).as("only B's write landed").isEqualTo(block(4096, 3).array());
            } finally {
                long t0 = System.nanoTime();
                va.close(); // a fenced client must still be able to let go, and quickly
                a.close();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
                vb.close();
                b.monCommand("{\"prefix\": \"osd blocklist\", \"blocklistop\": \"rm\", \"addr\": \""
                        + addressA + "\"}");
            }
            b.delete("shared");
        }
    }

    @FunctionalInterface
    interface Call {
        void run() throws IOException;
    }

    private static IOException catchIo(Call call) {
        try {
            call.run();
        } catch (IOException e) {
            return e;
        }
        throw new AssertionError("expected the call to fail");
    }

    /**
     * With every OSD paused, I/O fails with a timeout after about the op timeout instead of hanging.
     * (Reads of never-written objects and flushes with nothing in flight need no OSD and succeed.)
     */
    @Test
    void ioFailsWithinTheOpTimeoutWhenNoOsdAnswers() throws IOException {
        Duration timeout = Duration.ofSeconds(3);
        try (RbdStore s = RbdStore.open(config.withOpTimeout(timeout))) {
            s.create("paused", 8 << 20);
            try (Volume v = s.open("paused")) {
                v.write(0, block(4096, 5), true); // takes the lock while the cluster answers
                s.monCommand("{\"prefix\": \"osd pause\"}");
                try {
                    s.rados().waitForLatestOsdMap(); // the client holds ops once it sees the flag
                    for (Call io : List.<Call>of(() -> v.write(4096, block(4096, 6), false),
                            () -> v.read(0, ByteBuffer.allocateDirect(4096)))) {
                        long t0 = System.nanoTime();
                        IOException e = catchIo(io);
                        Duration took = Duration.ofNanos(System.nanoTime() - t0);
                        assertThat(e).isInstanceOf(VolumeTimeoutException.class).hasMessageContaining("paused");
                        assertThat(took).isBetween(timeout.minusMillis(500), timeout.plusSeconds(4));
                    }
                } finally {
                    s.monCommand("{\"prefix\": \"osd unpause\"}");
                }
                v.write(0, block(4096, 7), true);
                assertThat(read(v, 0, 4096)).isEqualTo(block(4096, 7).array());
            }
            s.delete("paused");
        }
    }

    /**
     * The store's health is the cluster's: a flag an operator sets shows up as a warning with
     * Ceph's own check name, and a monitor that stops answering (SIGSTOP) makes it an ERROR within
     * the op timeout instead of a hang.
     */
    @Test
    void healthPassesOnTheClustersChecksAndAnswersWhenTheMonitorDoesNot() throws Exception {
        Duration timeout = Duration.ofSeconds(2);
        try (RbdStore s = RbdStore.open(config.withOpTimeout(timeout))) {
            StoreHealth h = s.health();
            assertThat(h.type()).isEqualTo("rbd");
            assertThat(h.where()).isEqualTo("rbd/" + config.namespace());
            assertThat(h.status()).as("%s", h).isNotEqualTo(StoreHealth.Status.ERROR);
            assertThat(h.usedBytes()).isNotNegative();
            assertThat(h.availableBytes()).isPositive();

            s.monCommand("{\"prefix\": \"osd set\", \"key\": \"noout\"}");
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!s.health().problems().toString().contains("OSDMAP_FLAGS") && System.nanoTime() < deadline) {
                    Thread.sleep(250);
                }
                h = s.health();
                assertThat(h.status()).isEqualTo(StoreHealth.Status.WARN);
                assertThat(h.problems()).anyMatch(p -> p.startsWith("OSDMAP_FLAGS: ") && p.contains("noout"));
            } finally {
                s.monCommand("{\"prefix\": \"osd unset\", \"key\": \"noout\"}");
            }

            long mon = Long.parseLong(Files.readString(CephCluster.dataDir().resolve("run/mon.a.pid")).trim());
            signal("STOP", mon);
            try {
                long t0 = System.nanoTime();
                h = s.health();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(timeout.plusSeconds(5));
                assertThat(h.status()).isEqualTo(StoreHealth.Status.ERROR);
                assertThat(h.problems()).singleElement().asString().startsWith("UNREACHABLE: ");
            } finally {
                signal("CONT", mon);
            }
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor()).isZero();
    }

    /** A monitor that is not there: connecting fails after the op timeout, not the default 300 s. */
    @Test
    void connectingToADeadMonitorFailsWithinTheOpTimeout(@TempDir Path dir) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Path conf = dir.resolve("dead.conf");
        Files.writeString(conf, "[global]\nmon_host = 127.0.0.1:" + port + "\n", StandardCharsets.US_ASCII);
        RbdConfig dead = new RbdConfig(conf, config.clientId(), config.keyring(), "rbd", "", Duration.ofSeconds(2));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> RbdStore.open(dead)).isInstanceOf(VolumeTimeoutException.class)
                .hasMessageContaining("2 s");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
    }
}
