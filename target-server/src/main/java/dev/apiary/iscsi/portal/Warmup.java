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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Warms the target's data path before the first machine boots. A fresh JVM interprets the code
 * that serves a boot, then spends seconds of CPU compiling it while the first machines wait: on
 * this project's boot benchmark, a fresh server answered iPXE's first reads in up to 0.6 s and
 * used 2-3x the CPU of a warm one, on the cores the workers' firmware also needs
 * (docs/benchmarks.md, "Boot"). So before it reports ready, the server boots a few machines of
 * its own at once against a private target over loopback: each with iPXE's session and then the
 * OS's, the commands they send to find a LUN, and reads and writes, against a scratch volume
 * through the real stack (socket, codec, session, SCSI, volume). Then it waits for the JIT
 * compilers to go quiet. A warm-up narrower than a boot is worse than none: the JIT compiles
 * for the branches and types it saw, and the first real boot's others throw that code away
 * (docs/benchmarks.md, "What C2 compiles").
 *
 * <p>The private target listens on 127.0.0.1 on an ephemeral port, only for the warm-up, with a
 * random CHAP secret, and is never in the published export table.
 */
public final class Warmup {
    private static final int BLOCK = 512;
    private static final int[] READ_BLOCKS = {1, 8, 8, 16, 32, 64, 128, 256, 512};
    private static final int[] WRITE_BLOCKS = {8, 8, 16, 64, 256};
    /** Machines that boot at once: more than the event loops, so each loop serves several sessions. */
    private static final int MACHINES = 4;

    /**
     * What iPXE and Linux send a LUN besides reads and writes when they find it (Linux's SCSI scan
     * and sd driver; SPC-4, SBC-3), with their allocation lengths. Sent at each login and again
     * every few hundred reads, so the profile the JIT compiles from has every branch a boot takes.
     * The first command of a session meets a UNIT ATTENTION and VPD page 0x89 is not supported:
     * both answer CHECK CONDITION, which warms the sense path.
     */
    private static final List<Probe> SCAN = Stream.of(
            "00 00 00 00 00 00", // TEST UNIT READY
            "a0 00 00 00 00 00 00 00 10 00 00 00", // REPORT LUNS
            "12 00 00 00 24 00", // INQUIRY, standard data
            "12 01 00 00 ff 00", // VPD: supported pages
            "12 01 80 00 ff 00", // VPD: unit serial number
            "12 01 83 00 ff 00", // VPD: device identification
            "12 01 b0 00 ff 00", // VPD: block limits
            "12 01 b1 00 ff 00", // VPD: block device characteristics
            "12 01 b2 00 ff 00", // VPD: logical block provisioning
            "12 01 89 00 ff 00", // VPD: ATA information (not supported)
            "25 00 00 00 00 00 00 00 00 00", // READ CAPACITY(10)
            "9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00", // READ CAPACITY(16)
            "1a 00 3f 00 ff 00", // MODE SENSE(6), all pages
            "1a 08 08 00 ff 00", // MODE SENSE(6), caching page, no block descriptors
            "5a 08 0a 00 00 00 00 00 ff 00", // MODE SENSE(10), control page
            "a3 0c 00 00 00 00 00 00 10 00 00 00", // REPORT SUPPORTED OPERATION CODES
            "a3 0c 01 93 00 00 00 00 00 20 00 00", // ... one command: WRITE SAME(16)
            "a3 0a 00 00 00 00 00 00 04 00 00 00") // REPORT TARGET PORT GROUPS
            .map(Probe::of).toList();

    /** A CDB and the bytes it asks for: its allocation length, where each opcode keeps it. */
    private record Probe(byte[] cdb, int length) {
        static Probe of(String hex) {
            byte[] cdb = HexFormat.ofDelimiter(" ").parseHex(hex);
            int length = switch (Cdb.opcode(cdb)) {
                case 0x00 -> 0;
                case 0x12 -> Cdb.u16(cdb, 3);
                case 0x1a -> Cdb.u8(cdb, 4);
                case 0x25 -> 8;
                case 0x5a -> Cdb.u16(cdb, 7);
                case 0x9e -> (int) Cdb.u32(cdb, 10);
                case 0xa0, 0xa3 -> (int) Cdb.u32(cdb, 6);
                default -> throw new IllegalArgumentException("no allocation length known for " + hex);
            };
            return new Probe(cdb, length);
        }
    }

    /**
     * What a warm-up did: reads and writes run, other commands run (scans, flushes, pings), reads
     * and writes that did not end GOOD, and how long it took in all.
     */
    public record Report(int commands, int others, int failed, Duration took) {}

    /** What one machine's sessions did, as {@link Report} counts it. */
    private static final class Tally {
        int commands;
        int others;
        int failed;

        void add(Tally t) {
            commands += t.commands;
            others += t.others;
            failed += t.failed;
        }
    }

    private Warmup() {}

    /**
     * Runs up to {@code commands} reads and writes (or until {@code budget} is spent), with the
     * commands a boot sends around them, against {@code volume}, which it writes: give it a scratch
     * volume of at least 16 MiB.
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
        InetSocketAddress address = (InetSocketAddress) portal.localAddress();
        ExecutorService machines = Executors.newFixedThreadPool(MACHINES, r -> {
            Thread t = new Thread(r, "warmup");
            t.setDaemon(true);
            return t;
        });
        Tally total = new Tally();
        try {
            List<Future<Tally>> boots = new ArrayList<>();
            for (int m = 0; m < MACHINES; m++) {
                int share = commands / MACHINES + (m < commands % MACHINES ? 1 : 0);
                String initiator = "iqn.2026-11.dev.apiary:warmup-initiator-" + m;
                long seed = m;
                boots.add(machines.submit(() -> boot(address, initiator, iqn, chap, volume, share, seed, deadline)));
            }
            for (Future<Tally> boot : boots) {
                total.add(boot.get());
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException("warm-up failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("warm-up interrupted", e);
        } finally {
            machines.shutdownNow();
            portal.close().syncUninterruptibly();
        }
        awaitSessionsGone(server, iqn, deadline);
        awaitQuietCompiler(deadline);
        return new Report(total.commands, total.others, total.failed, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * One machine's boot: iPXE logs in and reads (single reads, 8 KiB Data-In PDUs); the OS logs
     * in beside it with its own session and reads and writes; iPXE's session is never logged out,
     * only dropped.
     */
    private static Tally boot(InetSocketAddress portal, String initiator, String iqn, ChapCredentials chap,
            Volume volume, int commands, long seed, long deadline) throws IOException {
        Tally counts = new Tally();
        SplittableRandom r = new SplittableRandom(seed);
        try (LoopbackInitiator ipxe = new LoopbackInitiator(portal, LoopbackInitiator.Style.IPXE)) {
            ipxe.login(initiator, iqn, chap);
            work(ipxe, false, volume, commands / 2, r, deadline, counts);
            try (LoopbackInitiator linux = new LoopbackInitiator(portal, LoopbackInitiator.Style.LINUX)) {
                linux.login(initiator, iqn, chap);
                work(linux, true, volume, commands - commands / 2, r, deadline, counts);
                linux.logout();
            }
        }
        return counts;
    }

    /** One session's commands: a scan, then reads and writes with flushes, scans and pings among them. */
    private static void work(LoopbackInitiator ini, boolean linux, Volume volume, int commands, SplittableRandom r,
            long deadline, Tally counts) throws IOException {
        long blocks = volume.size() / BLOCK;
        counts.others += scan(ini);
        for (int done = 0; done < commands && System.nanoTime() < deadline; ) {
            // iPXE and GRUB: one read at a time. Linux: read-ahead bursts too, and writes (a
            // first boot's journal and mkfs), small and large (R2T).
            int depth = Math.min(linux && r.nextInt(4) == 0 ? 8 : 1, commands - done);
            byte[][] cdbs = new byte[depth][];
            int[] lengths = new int[depth];
            boolean[] writes = new boolean[depth];
            for (int i = 0; i < depth; i++) {
                writes[i] = r.nextInt(linux ? 6 : 50) == 0;
                int n = writes[i] ? WRITE_BLOCKS[r.nextInt(WRITE_BLOCKS.length)]
                        : READ_BLOCKS[r.nextInt(READ_BLOCKS.length)];
                long lba = r.nextLong(blocks - n);
                cdbs[i] = r.nextInt(8) == 0 ? rw16(writes[i] ? 0x8a : 0x88, lba, n) : rw10(writes[i] ? 0x2a : 0x28, lba, n);
                lengths[i] = n * BLOCK;
            }
            counts.failed += ini.run(cdbs, lengths, writes);
            counts.commands += depth;
            done += depth;
            if (done % 512 < depth) { // SYNCHRONIZE CACHE(10), as an initiator's flush
                counts.failed += ini.run(new byte[][] {{0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, new int[] {0},
                        new boolean[] {false});
                counts.others++;
            }
            if (done % 256 < depth) {
                counts.others += scan(ini);
            }
            if (linux && done % 64 < depth) {
                ini.ping();
                counts.others++;
            }
        }
    }

    /** Sends {@link #SCAN}, one command at a time; their status is not counted (see there). */
    private static int scan(LoopbackInitiator ini) throws IOException {
        for (Probe p : SCAN) {
            ini.run(new byte[][] {p.cdb()}, new int[] {p.length()}, new boolean[] {false});
        }
        return SCAN.size();
    }

    /** Until the dropped sessions' connections are closed on the target's side too (or the deadline). */
    private static void awaitSessionsGone(TargetServer server, String iqn, long deadline) {
        while (System.nanoTime() < deadline
                && server.sessions().all().stream().anyMatch(s -> iqn.equals(s.targetName()))) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** READ(10) or WRITE(10) (SBC-3 §5.11, §5.32). */
    private static byte[] rw10(int opcode, long lba, int blocks) {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) opcode;
        Cdb.put32(cdb, 2, lba);
        Cdb.put16(cdb, 7, blocks);
        return cdb;
    }

    /** READ(16) or WRITE(16) (SBC-3 §5.14, §5.35). */
    private static byte[] rw16(int opcode, long lba, int blocks) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) opcode;
        Cdb.put32(cdb, 2, lba >>> 32);
        Cdb.put32(cdb, 6, lba);
        Cdb.put32(cdb, 10, blocks);
        return cdb;
    }

    /**
     * Waits (until {@code deadline}) for the JIT's queue to drain: the compilations the warm-up
     * triggered finish now, not during the first boot. Quiet = no compile time added for 300 ms.
     */
    public static void awaitQuietCompiler(long deadline) {
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
