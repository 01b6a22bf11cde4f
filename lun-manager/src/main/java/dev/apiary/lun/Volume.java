package dev.apiary.lun;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * A block device as the target sees it: byte-addressed verbs and nothing of SCSI.
 *
 * <p>This is the seam LIO calls {@code sbc_ops} (execute_rw, sync_cache, write_same, unmap): the SCSI
 * layer turns opcodes into these calls, so a file, a copy-on-write clone and a Ceph RBD image all
 * plug in without knowing what a CDB is. Offsets and lengths are in bytes; callers keep them inside
 * {@link #size()} (the SCSI layer checks LBA ranges once, before it calls a volume).
 *
 * <p>Implementations are safe for concurrent calls: the target issues many commands at once. Calls
 * may block (disk, network), so the target never makes them on an event-loop thread. Reads and
 * writes also come as {@link #readAsync}/{@link #writeAsync}, which the target uses for READ and
 * WRITE: a volume whose I/O waits on a network (RBD) answers them from its completion, so no
 * thread waits with each I/O in flight, and if it also {@link #submitsWithoutWaiting() submits
 * without waiting}, the target calls those two from its network threads.
 */
public interface Volume extends Closeable {

    /** A name for messages and metrics: a path, a store id or an RBD image spec. */
    String name();

    /** Current capacity in bytes. It may grow while the volume is open (see {@link #resize}). */
    long size();

    /** Fills {@code dst} from {@code offset}: exactly {@code dst.remaining()} bytes; unwritten ranges read as zeros. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes all of {@code src} at {@code offset}. With {@code fua} (force unit access) the data is
     * durable when this returns; otherwise only after the next {@link #flush()}.
     */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /**
     * {@link #read} that may finish later: the stage completes when {@code dst} is filled, or fails
     * with the {@link IOException} {@code read} would throw. Until then the volume may still write
     * into {@code dst}, so the caller keeps its memory. By default it reads on the calling thread.
     */
    default CompletionStage<Void> readAsync(long offset, ByteBuffer dst) {
        return now(() -> read(offset, dst));
    }

    /** {@link #write} that may finish later, as {@link #readAsync}; {@code src} is the volume's until then. */
    default CompletionStage<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        return now(() -> write(offset, src, fua));
    }

    /**
     * Whether {@link #readAsync} and {@link #writeAsync} return without blocking the caller, the
     * I/O completing later on a thread of the volume's own: then the target calls them on the
     * thread that decoded the command instead of handing each one to another thread first. False
     * by default, since the default verbs do their I/O on the calling thread.
     */
    default boolean submitsWithoutWaiting() {
        return false;
    }

    /**
     * What a failed {@link #readAsync}/{@link #writeAsync} stage failed with, as the verb would
     * have thrown it: a stage that depends on another gets its failure wrapped in a
     * {@link CompletionException}, which says nothing of its own.
     */
    static Throwable failure(Throwable stageFailure) {
        return stageFailure instanceof CompletionException c && c.getCause() != null ? c.getCause() : stageFailure;
    }

    /** A verb run now, as a stage: completed, or failed with what it threw. */
    private static CompletionStage<Void> now(Verb verb) {
        try {
            verb.run();
            return CompletableFuture.completedFuture(null);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A verb as {@link #now} runs it. */
    @FunctionalInterface
    interface Verb {
        void run() throws IOException;
    }

    /** Makes every write that has returned durable (SYNCHRONIZE CACHE). */
    void flush() throws IOException;

    /**
     * Deallocates a range: afterwards it reads as zeros. A volume that cannot free space writes
     * zeros instead, which keeps the contract (SBC-3 LBPRZ = 1).
     */
    void unmap(long offset, long length) throws IOException;

    /** Whether {@code [offset, offset + length)} holds no allocated data (GET LBA STATUS); false when unknown. */
    default boolean isDeallocated(long offset, long length) throws IOException {
        return false;
    }

    /** Whether writes are refused (a sealed snapshot exported read-only). */
    default boolean readOnly() {
        return false;
    }

    /** Grows the volume to {@code newSize} bytes; shrinking is refused. */
    void resize(long newSize) throws IOException;

    /** Flushes and releases the volume; further calls fail. */
    @Override
    void close() throws IOException;
}
