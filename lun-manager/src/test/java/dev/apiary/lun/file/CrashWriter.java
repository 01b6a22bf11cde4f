package dev.apiary.lun.file;

import dev.apiary.lun.Volume;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child process of {@link StoreCrashTest}: opens the store, writes to the clone {@value #VOLUME}
 * from several threads until it is killed, and tells its parent on stdout what it did, so the parent
 * can work out exactly what must have survived:
 *
 * <pre>
 * READY                              the store and volume are open; writing starts
 * I gen block firstSector count K    an operation is about to be issued (printed before it starts);
 *                                    K = W write, F write with FUA, Z unmap
 * D gen gen ...                      these operations are durable (a flush that started after they
 *                                    completed has returned, or the FUA write returned)
 * DONE                               the time limit passed and the store was closed cleanly
 * </pre>
 *
 * Each line goes to stdout (a file, see the test) in one write(2) before the next step, so whatever
 * the parent reads after SIGKILL is exactly what the child had announced. Every sector's content is self-describing
 * ({@link #sector}): generation, block and sector in a header, then bytes derived from them, so
 * the parent recognises any version and any garbage.
 *
 * <p>Second mode, {@code probe DIR}: try to open the store and print OPENED or REFUSED.
 */
public final class CrashWriter {
    static final int SECTOR = 512;
    static final int BLOCK = 4096;
    static final int SECTORS = BLOCK / SECTOR;
    static final String BASE = "base";
    static final String SNAPSHOT = "golden";
    static final String VOLUME = "work";
    static final long CONTENT_SEED = 0x5EED_CAFE_F00DL;

    private static final FileOutputStream OUT = new FileOutputStream(FileDescriptor.out);

    private CrashWriter() {}

    /** The bytes of one sector of one version: generation 0 is the parent snapshot's content. */
    static void sector(byte[] dst, int off, long block, int sector, long gen) {
        ByteBuffer b = ByteBuffer.wrap(dst, off, SECTOR);
        b.putLong(gen).putLong(block).putInt(sector).putInt(0x5EC7_0000 | sector);
        SplittableRandom r = new SplittableRandom(CONTENT_SEED ^ (gen * 0x9E3779B97F4A7C15L)
                ^ (block * 0xC2B2AE3D27D4EB4FL) ^ ((long) sector << 56));
        while (b.hasRemaining()) {
            b.putLong(r.nextLong());
        }
    }

    /** Whether the parent snapshot holds zeros in this block (a third of them, never written there). */
    static boolean parentZero(long block) {
        return block % 3 == 0;
    }

    static synchronized void emit(String line) {
        try {
            OUT.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            Runtime.getRuntime().halt(4); // the parent is gone
        }
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("probe")) {
            probe(Path.of(args[1]));
            return;
        }
        Path dir = Path.of(args[1]);
        long seed = Long.parseLong(args[2]);
        long genBase = Long.parseLong(args[3]);
        int threads = Integer.parseInt(args[4]);
        long maxMillis = Long.parseLong(args[5]);
        int blocks = Integer.parseInt(args[6]);
        try {
            run(dir, seed, genBase, threads, maxMillis, blocks);
        } catch (Throwable t) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            System.err.println(sw);
            emit("ERROR " + t);
            Runtime.getRuntime().halt(3);
        }
    }

    private static void probe(Path dir) {
        try (FileStore store = FileStore.open(dir)) {
            store.list();
            emit("OPENED");
        } catch (Throwable t) {
            emit("REFUSED " + t);
        }
    }

    private static void run(Path dir, long seed, long genBase, int threads, long maxMillis, int blocks)
            throws Exception {
        FileStore store = FileStore.open(dir);
        Volume v = store.open(VOLUME);
        if (v.size() < (long) blocks * BLOCK) {
            throw new IllegalStateException("volume is " + v.size() + " bytes, less than " + blocks + " blocks");
        }
        AtomicLong nextGen = new AtomicLong(genBase);
        ConcurrentLinkedQueue<Long> completed = new ConcurrentLinkedQueue<>();
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        List<Thread> workers = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        emit("READY");
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread w = new Thread(() -> {
                try {
                    work(v, me, threads, blocks, new SplittableRandom(seed * 1_000_003L + me), nextGen, completed,
                            deadline);
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            }, "crash-writer-" + t);
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        if (failure[0] != null) {
            throw new IOException("a writer failed", failure[0]);
        }
        List<Long> last = drain(completed);
        v.flush();
        emitDurable(last);
        v.close();
        store.close();
        emit("DONE");
    }

    private static void work(Volume v, int me, int threads, int blocks, SplittableRandom r, AtomicLong nextGen,
            ConcurrentLinkedQueue<Long> completed, long deadline) throws IOException {
        byte[] buf = new byte[BLOCK];
        int perThread = blocks / threads;
        int untilFlush = 4 + r.nextInt(24);
        for (long ops = 0; ops < 1_000_000 && System.nanoTime() < deadline; ops++) {
            long block = me + (long) threads * r.nextInt(perThread); // each block has one writer
            int p = r.nextInt(100);
            int first = 0;
            int count = SECTORS;
            char kind;
            if (p < 50) {
                kind = 'W';
            } else if (p < 68) {
                kind = 'W';
                first = r.nextInt(SECTORS);
                count = 1 + r.nextInt(SECTORS - first);
            } else if (p < 80) {
                kind = 'F';
                if (r.nextBoolean()) {
                    first = r.nextInt(SECTORS);
                    count = 1 + r.nextInt(SECTORS - first);
                }
            } else if (p < 90) {
                kind = 'Z';
            } else {
                kind = 'Z';
                first = r.nextInt(SECTORS);
                count = 1 + r.nextInt(SECTORS - first);
            }
            long gen = nextGen.incrementAndGet();
            emit("I " + gen + " " + block + " " + first + " " + count + " " + kind);
            long off = block * BLOCK + (long) first * SECTOR;
            if (kind == 'Z') {
                v.unmap(off, (long) count * SECTOR);
            } else {
                for (int s = 0; s < count; s++) {
                    sector(buf, s * SECTOR, block, first + s, gen);
                }
                v.write(off, ByteBuffer.wrap(buf, 0, count * SECTOR), kind == 'F');
            }
            if (kind == 'F') {
                emit("D " + gen);
            } else {
                completed.add(gen);
            }
            if (--untilFlush == 0) {
                List<Long> done = drain(completed); // completed before the flush starts
                v.flush();
                emitDurable(done);
                untilFlush = 4 + r.nextInt(24);
            }
        }
    }

    private static List<Long> drain(ConcurrentLinkedQueue<Long> q) {
        List<Long> l = new ArrayList<>();
        for (Long g; (g = q.poll()) != null; ) {
            l.add(g);
        }
        return l;
    }

    private static void emitDurable(List<Long> gens) {
        if (gens.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("D");
        for (long g : gens) {
            sb.append(' ').append(g);
        }
        emit(sb.toString());
    }
}
