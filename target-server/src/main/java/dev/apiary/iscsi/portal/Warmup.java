package dev.apiary.iscsi.portal;

import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.iscsi.scsi.Cdb;
import dev.apiary.iscsi.scsi.LogicalUnit;
import dev.apiary.iscsi.scsi.LunIdentity;
import dev.apiary.iscsi.scsi.LunMap;
import dev.apiary.lun.Volume;
import io.netty.channel.Channel;
import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Warms the target's data path before the first machine boots. A fresh JVM interprets the code
 * that serves a boot, then spends seconds of CPU compiling it while the first machines wait: on
 * this project's boot benchmark, a fresh server answered iPXE's first reads in up to 0.6 s and
 * used 2-3x the CPU of a warm one, on the cores the workers' firmware also needs
 * (docs/benchmarks.md, "Boot"). So before it reports ready, the server logs in to a private
 * target of its own over loopback and runs a boot-like mix of commands against a scratch volume
 * through the real stack (socket, codec, session, SCSI, volume), then waits for the JIT
 * compilers to go quiet.
 *
 * <p>The private target listens on 127.0.0.1 on an ephemeral port, only for the warm-up, with a
 * random CHAP secret, and is never in the published export table.
 */
public final class Warmup {
    private static final int BLOCK = 512;
    private static final int[] READ_BLOCKS = {1, 8, 8, 16, 32, 64, 128, 256, 512};
    private static final int[] WRITE_BLOCKS = {8, 8, 16, 64, 256};

    /** What a warm-up did: commands run, of which failed, and how long it took in all. */
    public record Report(int commands, int failed, Duration took) {}

    private Warmup() {}

    /**
     * Runs up to {@code commands} SCSI commands (or until {@code budget} is spent) against
     * {@code volume}, which it writes: give it a scratch volume of at least 16 MiB.
     */
    public static Report run(TargetServer server, Volume volume, int commands, Duration budget) throws IOException {
        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        SecureRandom random = new SecureRandom();
        String iqn = "iqn.2026-11.dev.apiary:warmup." + Long.toHexString(random.nextLong() >>> 16);
        ChapCredentials chap = new ChapCredentials("warmup", ChapSecret.generate(random));
        TreeMap<Integer, LogicalUnit> luns = new TreeMap<>();
        luns.put(0, new LogicalUnit(volume, LunIdentity.fromSerial("warmup"), BLOCK));
        ExportTable table = new ExportTable(List.of(new TargetExport(iqn, new LunMap(luns), List.of(chap),
                Optional.empty(), Set.of())));
        Channel portal = server.listenPrivate(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), table);
        int done = 0, failed = 0;
        try {
            // As a boot does: iPXE's session (single reads, 8 KiB Data-In PDUs), then Linux's.
            for (LoopbackInitiator.Style style : List.of(LoopbackInitiator.Style.IPXE, LoopbackInitiator.Style.LINUX)) {
                int[] r = session(portal, iqn, chap, volume, style, commands / 2, deadline);
                done += r[0];
                failed += r[1];
            }
        } finally {
            portal.close().syncUninterruptibly();
        }
        awaitQuietCompiler(deadline);
        return new Report(done, failed, Duration.ofNanos(System.nanoTime() - start));
    }

    /** One login and up to {@code commands} commands in {@code style}; returns {done, failed}. */
    private static int[] session(Channel portal, String iqn, ChapCredentials chap, Volume volume,
            LoopbackInitiator.Style style, int commands, long deadline) throws IOException {
        int done = 0, failed = 0;
        boolean ipxe = style == LoopbackInitiator.Style.IPXE;
        try (LoopbackInitiator ini = new LoopbackInitiator((InetSocketAddress) portal.localAddress(), style)) {
            ini.login("iqn.2026-11.dev.apiary:warmup-initiator", iqn, chap);
            long blocks = volume.size() / BLOCK;
            SplittableRandom r = new SplittableRandom(42);
            while (done < commands && System.nanoTime() < deadline) {
                // iPXE and GRUB: one read at a time. Linux: read-ahead bursts too, and writes (a
                // first boot's journal and mkfs), small and large (R2T).
                int depth = !ipxe && r.nextInt(4) == 0 ? 8 : 1;
                byte[][] cdbs = new byte[depth][];
                int[] lengths = new int[depth];
                boolean[] writes = new boolean[depth];
                for (int i = 0; i < depth; i++) {
                    writes[i] = r.nextInt(ipxe ? 50 : 6) == 0;
                    int n = writes[i] ? WRITE_BLOCKS[r.nextInt(WRITE_BLOCKS.length)]
                            : READ_BLOCKS[r.nextInt(READ_BLOCKS.length)];
                    long lba = r.nextLong(blocks - n);
                    cdbs[i] = rw10(writes[i] ? 0x2a : 0x28, lba, n);
                    lengths[i] = n * BLOCK;
                }
                failed += ini.run(cdbs, lengths, writes);
                done += depth;
                if (done % 512 < depth) {
                    // SYNCHRONIZE CACHE(10), as an initiator's flush
                    failed += ini.run(new byte[][] {{0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, new int[] {0},
                            new boolean[] {false});
                }
            }
            ini.logout();
        }
        return new int[] {done, failed};
    }

    /** READ(10) or WRITE(10) (SBC-3 §5.11, §5.32). */
    private static byte[] rw10(int opcode, long lba, int blocks) {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) opcode;
        Cdb.put32(cdb, 2, lba);
        Cdb.put16(cdb, 7, blocks);
        return cdb;
    }

    /**
     * Waits (until {@code deadline}) for the JIT's queue to drain: the compilations the warm-up
     * triggered finish now, not during the first boot. Quiet = no compile time added for 300 ms.
     */
    private static void awaitQuietCompiler(long deadline) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long last = jit.getTotalCompilationTime();
        long quietSince = System.nanoTime();
        while (System.nanoTime() < deadline && System.nanoTime() - quietSince < 300_000_000L) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
        }
    }
}
