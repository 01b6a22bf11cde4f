package dev.apiary.lun.rbd;

import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * librbd asynchronous I/O: submit, and the completion callback completes a future. The target's
 * READ and WRITE answer from it, so the volume has as many operations in flight as the initiator
 * sends and no thread waits for any of them; a synchronous verb waits on the same future.
 *
 * <p>One callback object serves every operation (JNA must keep a callback reachable, and a new one
 * per I/O would cost a native trampoline each). librbd passes back an opaque argument; here it is
 * a number that keys the table of pending operations, so no Java object address crosses into C.
 * An operation stays in the table, with the buffer it reads or writes, until librbd completes it,
 * even if its caller stopped waiting: native code never writes into freed memory.
 */
final class Aio {
    private static final ConcurrentHashMap<Long, Op> PENDING = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong();
    private static final LibRbd.CompletionCallback DONE = Aio::done;
    /** Where librbd puts a new completion: read at once, so one per thread (each is a native malloc). */
    private static final ThreadLocal<PointerByReference> COMPLETION = ThreadLocal.withInitial(PointerByReference::new);

    static {
        // Keep librbd's callback thread attached to the JVM: attaching on every completion is slow.
        Native.setCallbackThreadInitializer(DONE, new CallbackThreadInitializer(true, false, "rbd-aio-callback"));
    }

    private Aio() {}

    /** Submits an operation given the completion; returns the submit call's status. */
    @FunctionalInterface
    interface Submit {
        int submit(Pointer completion);
    }

    /** One operation in flight; {@code keepAlive} is the native memory it uses. */
    static final class Op extends CompletableFuture<Long> {
        @SuppressWarnings("unused") // referenced so the memory outlives the native call
        private final Object keepAlive;

        private Op(Object keepAlive) {
            this.keepAlive = keepAlive;
        }

        /** librbd's non-negative result, or the error {@link RbdErrors} makes of a negative one. */
        CompletableFuture<Long> checked(String what) {
            return thenCompose(rv -> rv >= 0 ? CompletableFuture.completedFuture(rv)
                    : CompletableFuture.failedFuture(RbdErrors.error(rv, what)));
        }
    }

    private static void done(Pointer completion, Pointer arg) {
        long rv = LibRbd.rbd_aio_get_return_value(completion);
        LibRbd.rbd_aio_release(completion);
        Op op = PENDING.remove(Pointer.nativeValue(arg));
        if (op != null) {
            op.complete(rv);
        }
    }

    static Op start(Object keepAlive, Submit submit, String what) throws IOException {
        long id = NEXT.incrementAndGet();
        Op op = new Op(keepAlive);
        PENDING.put(id, op);
        PointerByReference c = COMPLETION.get();
        int rc = LibRbd.rbd_aio_create_completion(new Pointer(id), DONE, c);
        if (rc < 0) {
            PENDING.remove(id);
            throw RbdErrors.error(rc, what);
        }
        rc = submit.submit(c.getValue());
        if (rc < 0) { // refused before it started: no callback will come
            PENDING.remove(id);
            LibRbd.rbd_aio_release(c.getValue());
            throw RbdErrors.error(rc, what);
        }
        return op;
    }

    /**
     * Waits for an operation and returns its result, rethrowing its {@link IOException} as it is
     * (the target answers each kind in its own way). {@code limitNanos} is a backstop over librados'
     * own op timeout (which normally fails the operation first, with ETIMEDOUT).
     */
    static <T> T await(CompletableFuture<T> op, long limitNanos, String what) throws IOException {
        try {
            return op.get(limitNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new VolumeTimeoutException(what + ": not completed within "
                    + TimeUnit.NANOSECONDS.toSeconds(limitNanos) + " s (the cluster does not answer)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted while waiting for the cluster");
        } catch (ExecutionException e) {
            Throwable cause = Volume.failure(e.getCause());
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(what + ": " + cause, cause);
        }
    }

    /** Operations submitted and not yet completed by librbd (for tests and metrics). */
    static int pending() {
        return PENDING.size();
    }
}
