package dev.apiary.iscsi.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.ChapAlgorithm;
import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.login.LoginKey;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.ScsiResult;
import dev.apiary.iscsi.wire.TestInitiator;
import dev.apiary.lun.ForwardingVolume;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeFencedException;
import dev.apiary.lun.file.FileVolume;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * READ and WRITE on a volume that completes its I/O later, on a thread of its own (as librbd does):
 * the target keeps more commands in flight than it has SCSI threads, answers each from its
 * completion whatever the order, and reports a failed completion with the sense its cause calls for.
 */
class AsyncVolumeTest {
    private static final int SCSI_THREADS = 2;
    private static final int IN_FLIGHT = 24;

    @TempDir
    Path dir;

    /** Holds each read and write until the test lets it go; then does it on the inner volume. */
    static final class HeldVolume extends ForwardingVolume {
        final LinkedBlockingDeque<Runnable> held = new LinkedBlockingDeque<>();
        volatile IOException failNext;
        /** What {@link #submitsWithoutWaiting} answers: librbd's volume says true. */
        volatile boolean inline;
        /** When set, a flush waits for it (a cluster slow to answer SYNCHRONIZE CACHE). */
        volatile CountDownLatch flushGate;
        /** When set, a synchronous read waits for it (COMPARE AND WRITE reads that way). */
        volatile CountDownLatch readGate;

        HeldVolume(Volume inner) {
            super(inner);
        }

        @Override
        public boolean submitsWithoutWaiting() {
            return inline;
        }

        @Override
        public void flush() throws IOException {
            pass(flushGate);
            volume.flush();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            pass(readGate);
            volume.read(offset, dst);
        }

        private static void pass(CountDownLatch gate) {
            if (gate != null) {
                try {
                    gate.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public CompletionStage<Void> readAsync(long offset, ByteBuffer dst) {
            return hold(() -> volume.read(offset, dst));
        }

        @Override
        public CompletionStage<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
            return hold(() -> volume.write(offset, src, fua));
        }

        private CompletionStage<Void> hold(Volume.Verb io) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            IOException fail = failNext;
            failNext = null;
            held.add(() -> {
                try {
                    if (fail != null) {
                        throw fail;
                    }
                    io.run();
                    f.complete(null);
                } catch (IOException e) {
                    f.completeExceptionally(e);
                }
            });
            return f;
        }

        /** Lets every held I/O go, the newest first, on a thread of its own. */
        void releaseAll() throws InterruptedException {
            Thread t = new Thread(() -> {
                for (Runnable r; (r = held.pollLast()) != null; ) {
                    r.run();
                }
            }, "volume-completion");
            t.start();
            t.join(10_000);
        }

        void awaitHeld(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (held.size() < n && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
    }

    @Test
    void moreCommandsThanScsiThreadsAreInFlightAndEachIsAnsweredFromItsCompletion() throws Exception {
        LeakWatch.install();
        HeldVolume volume = new HeldVolume(FileVolume.openOrCreate(dir.resolve("v.img"), 4 << 20));
        try (TargetServer server = new TargetServer(
                new TargetServer.Options(1, SCSI_THREADS, 64, 15, new EnumMap<>(LoginKey.class)))) {
            InetSocketAddress at = serve(server, volume);
            try (TestInitiator ini = loggedIn(at)) {
                // Writes of distinct blocks, all in flight at once: far more than the SCSI threads.
                List<Integer> writes = new ArrayList<>();
                for (int i = 0; i < IN_FLIGHT; i++) {
                    byte[] data = block(i);
                    writes.add(ini.sendCommand(Cdbs.lun(0), Cdbs.write10(i * 8L, 8), data, data.length, false, true, true));
                }
                volume.awaitHeld(IN_FLIGHT);
                assertThat(volume.held).hasSize(IN_FLIGHT); // no thread held per I/O: all of them reached the volume
                volume.releaseAll();
                for (int itt : writes) {
                    assertThat(ini.await(itt).good()).isTrue();
                }

                List<Integer> reads = new ArrayList<>();
                for (int i = 0; i < IN_FLIGHT; i++) {
                    reads.add(ini.sendCommand(Cdbs.lun(0), Cdbs.read10(i * 8L, 8), null, 4096, true, false, true));
                }
                volume.awaitHeld(IN_FLIGHT);
                assertThat(volume.held).hasSize(IN_FLIGHT);
                volume.releaseAll(); // the newest first: answers leave in another order than asked
                for (int i = 0; i < IN_FLIGHT; i++) {
                    ScsiResult r = ini.await(reads.get(i));
                    assertThat(r.good()).isTrue();
                    assertThat(r.data()).isEqualTo(block(i));
                }

                // A completion that fails: a fenced volume is a path in transition (NOT READY 04/0A),
                // anything else on a read a medium error; the session goes on.
                volume.failNext = new VolumeFencedException("fenced by another gateway");
                int w = ini.sendCommand(Cdbs.lun(0), Cdbs.write10(0, 8), block(99), 4096, false, true, true);
                volume.awaitHeld(1);
                volume.releaseAll();
                ScsiResult fenced = ini.await(w);
                assertThat(fenced.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
                assertThat(fenced.senseKey()).isEqualTo(0x02);
                assertThat(fenced.asc()).isEqualTo(0x04);
                assertThat(fenced.sense()[13]).isEqualTo((byte) 0x0a); // fixed format: ASCQ at byte 13

                volume.failNext = new IOException("the disk is gone");
                int rd = ini.sendCommand(Cdbs.lun(0), Cdbs.read10(8, 8), null, 4096, true, false, true);
                volume.awaitHeld(1);
                volume.releaseAll();
                ScsiResult medium = ini.await(rd);
                assertThat(medium.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
                assertThat(medium.senseKey()).isEqualTo(0x03);

                int again = ini.sendCommand(Cdbs.lun(0), Cdbs.read10(0, 8), null, 4096, true, false, true);
                volume.awaitHeld(1);
                volume.releaseAll();
                ScsiResult r = ini.await(again);
                assertThat(r.good()).isTrue();
                assertThat(r.data()).isEqualTo(block(0)); // the refused write landed nowhere
            }
        }
        LeakWatch.assertNoLeaks();
    }

    /**
     * A volume that submits without waiting gets READ and WRITE from the network thread: they go
     * on while every SCSI thread waits in a slow SYNCHRONIZE CACHE, where a volume that may block
     * would have them queue behind it.
     */
    @Test
    void readsAndWritesToAVolumeThatSubmitsWithoutWaitingDoNotQueueBehindTheScsiThreads() throws Exception {
        LeakWatch.install();
        HeldVolume volume = new HeldVolume(FileVolume.openOrCreate(dir.resolve("v.img"), 4 << 20));
        volume.inline = true;
        volume.flushGate = new CountDownLatch(1);
        try (TargetServer server = new TargetServer(
                new TargetServer.Options(1, SCSI_THREADS, 64, 15, new EnumMap<>(LoginKey.class)))) {
            InetSocketAddress at = serve(server, volume);
            try (TestInitiator ini = loggedIn(at)) {
                List<Integer> syncs = new ArrayList<>();
                for (int i = 0; i < SCSI_THREADS; i++) { // every SCSI thread now waits in flush()
                    syncs.add(ini.sendCommand(Cdbs.lun(0), Cdbs.synchronizeCache10(), null, 0, false, false, true));
                }
                List<Integer> io = new ArrayList<>();
                for (int i = 0; i < IN_FLIGHT; i++) {
                    byte[] data = block(i);
                    io.add(ini.sendCommand(Cdbs.lun(0), Cdbs.write10(i * 8L, 8), data, data.length, false, true, true));
                    io.add(ini.sendCommand(Cdbs.lun(0), Cdbs.read10(i * 8L, 8), null, 4096, true, false, true));
                }
                volume.awaitHeld(2 * IN_FLIGHT);
                assertThat(volume.held).hasSize(2 * IN_FLIGHT); // all reached the volume, no SCSI thread free
                volume.releaseAll();
                for (int itt : io) {
                    assertThat(ini.await(itt).good()).isTrue();
                }
                volume.flushGate.countDown();
                for (int itt : syncs) {
                    assertThat(ini.await(itt).good()).isTrue();
                }
            }
        }
        LeakWatch.assertNoLeaks();
    }

    /**
     * A COMPARE AND WRITE holds every other write off its blocks until it is done (SBC-3 §5.3). A
     * WRITE that arrives meanwhile waits for it on a SCSI thread, not on the network thread, so a
     * READ sent after that WRITE still reaches the volume.
     */
    @Test
    void aWriteBehindACompareAndWriteWaitsOffTheNetworkThread() throws Exception {
        LeakWatch.install();
        HeldVolume volume = new HeldVolume(FileVolume.openOrCreate(dir.resolve("v.img"), 4 << 20));
        volume.inline = true;
        volume.readGate = new CountDownLatch(1);
        try (TargetServer server = new TargetServer(
                new TargetServer.Options(1, SCSI_THREADS, 64, 15, new EnumMap<>(LoginKey.class)))) {
            InetSocketAddress at = serve(server, volume);
            try (TestInitiator ini = loggedIn(at)) {
                byte[] caw = new byte[1024]; // compare 512 zeros (a new volume), then write 512 bytes of 7
                Arrays.fill(caw, 512, 1024, (byte) 7);
                int compare = ini.sendCommand(Cdbs.lun(0), Cdbs.compareAndWrite(0, 1), caw, caw.length, false, true, true);
                Thread.sleep(200); // the COMPARE AND WRITE now holds the unit's writes, waiting in its read
                byte[] data = block(5);
                int write = ini.sendCommand(Cdbs.lun(0), Cdbs.write10(8, 8), data, data.length, false, true, true);
                int read = ini.sendCommand(Cdbs.lun(0), Cdbs.read10(16, 8), null, 4096, true, false, true);
                volume.awaitHeld(1);
                assertThat(volume.held).as("the READ sent after the waiting WRITE").hasSize(1);

                volume.readGate.countDown();
                assertThat(ini.await(compare).good()).isTrue();
                volume.awaitHeld(2); // the WRITE, once the COMPARE AND WRITE let go
                volume.releaseAll();
                assertThat(ini.await(write).good()).isTrue();
                assertThat(ini.await(read).good()).isTrue();
                int check = ini.sendCommand(Cdbs.lun(0), Cdbs.read10(0, 1), null, 512, true, false, true);
                volume.awaitHeld(1);
                volume.releaseAll();
                assertThat(ini.await(check).data()).containsOnly((byte) 7);
            }
        }
        LeakWatch.assertNoLeaks();
    }

    /**
     * A session to the test target that sends each write whole with its command (immediate data),
     * so no R2T waits to be answered while the volume holds I/O.
     */
    private static TestInitiator loggedIn(InetSocketAddress at) throws IOException {
        TestInitiator ini = TestInitiator.connect(at);
        ini.readTimeout(Duration.ofSeconds(30));
        ini.sendImmediateData(true);
        assertThat(ini.login("iqn.2026-11.test:i", "iqn.2026-11.test:async", "u", "secretsecret12",
                ChapAlgorithm.MD5, null, Map.of()).ok()).isTrue();
        return ini;
    }

    private static InetSocketAddress serve(TargetServer server, Volume volume) throws IOException {
        server.publish(new ExportTable(List.of(new TargetExport("iqn.2026-11.test:async",
                new LunMap(new TreeMap<>(Map.of(0, new LogicalUnit(volume, LunIdentity.fromSerial("async"), 512)))),
                List.of(new ChapCredentials("u", ChapSecret.of("secretsecret12"))), Optional.empty(), Set.of()))));
        return server.listen(new InetSocketAddress("127.0.0.1", 0), 1, 1);
    }

    private static byte[] block(int i) {
        byte[] b = new byte[4096];
        Arrays.fill(b, (byte) (i + 1));
        return b;
    }
}
