package dev.apiary.iscsi.portal;

import dev.apiary.iscsi.wire.Cdbs;
import dev.apiary.iscsi.wire.ScsiResult;
import dev.apiary.iscsi.wire.TestInitiator;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A well-behaved logged-in initiator that keeps writing and reading back its own blocks on LUN 1,
 * on its own thread, while a test attacks the target over another connection. Bounded: it stops
 * after {@link #MAX_ROUNDS} rounds or {@link #MAX_TIME}, whichever comes first.
 */
final class HealthyWorker implements AutoCloseable {
    static final int MAX_ROUNDS = 50_000;
    static final Duration MAX_TIME = Duration.ofSeconds(45);

    private final TargetFixture fixture;
    private final long lba;
    private final AtomicInteger rounds = new AtomicInteger();
    private final Thread thread;
    private volatile boolean stop;
    private volatile Throwable failure;
    private volatile boolean ranOut;

    private HealthyWorker(TargetFixture fixture, String initiatorName, long lba) {
        this.fixture = fixture;
        this.lba = lba;
        this.thread = new Thread(() -> run(initiatorName), "healthy-initiator");
        this.thread.setDaemon(true);
    }

    /** Starts the worker and waits for its first successful rounds. */
    static HealthyWorker start(TargetFixture fixture, String initiatorName, long lba) throws InterruptedException {
        HealthyWorker w = new HealthyWorker(fixture, initiatorName, lba);
        w.thread.start();
        w.awaitRounds(3, Duration.ofSeconds(10));
        return w;
    }

    private void run(String initiatorName) {
        long deadline = System.nanoTime() + MAX_TIME.toNanos();
        Random random = new Random(lba);
        try (TestInitiator ini = fixture.loggedIn(initiatorName)) {
            for (int i = 0; i < MAX_ROUNDS && !stop; i++) {
                if (System.nanoTime() > deadline) {
                    ranOut = true;
                    return;
                }
                byte[] data = new byte[8 * TestInitiator.BLOCK];
                random.nextBytes(data);
                long at = lba + (i % 4) * 8;
                ScsiResult w = ini.write10(Cdbs.lun(1), at, data);
                if (!w.good()) {
                    throw new AssertionError("healthy write failed: " + w);
                }
                ScsiResult r = ini.read10(Cdbs.lun(1), at, 8);
                if (!r.good() || !Arrays.equals(r.data(), data)) {
                    throw new AssertionError("healthy read-back failed: " + r);
                }
                if (!ini.strays().isEmpty()) {
                    throw new AssertionError("healthy session got unexpected PDUs: " + ini.strays());
                }
                rounds.incrementAndGet();
                Thread.sleep(2);
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    int rounds() {
        return rounds.get();
    }

    /** Waits until {@code n} more rounds succeeded; fails if the worker failed or stalled. */
    void awaitRounds(int n, Duration max) throws InterruptedException {
        int target = rounds.get() + n;
        long deadline = System.nanoTime() + max.toNanos();
        while (rounds.get() < target) {
            check();
            if (System.nanoTime() > deadline || !thread.isAlive()) {
                check();
                throw new AssertionError("healthy session made no progress (" + rounds.get() + " rounds)");
            }
            Thread.sleep(5);
        }
    }

    void check() {
        if (failure != null) {
            throw new AssertionError("the healthy session failed while the target was attacked", failure);
        }
    }

    /** Proves the session still works, stops it, and fails if it ever broke. */
    @Override
    public void close() throws InterruptedException {
        try {
            if (!ranOut) {
                awaitRounds(3, Duration.ofSeconds(10));
            }
        } finally {
            stop = true;
            thread.join(10_000);
        }
        check();
    }
}
