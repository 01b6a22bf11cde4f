package dev.apiary.lun.rbd;

import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
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
 * librbd asynchronous I/O behind a synchronous call: submit, then wait for the completion callback.
 * Any number of threads can wait at once, so the volume has as many operations in flight as the
 * target has commands, and none of them holds a thread inside librbd.
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
        PointerByReference c = new PointerByReference();
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
     * Waits for {@code op} and returns its non-negative result. {@code limitNanos} is a backstop
     * over librados' own op timeout (which normally fails the operation first, with ETIMEDOUT).
     */
    static long await(Op op, long limitNanos, String what) throws IOException {
        long rv;
        try {
            rv = op.get(limitNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new VolumeTimeoutException(what + ": not completed within "
                    + TimeUnit.NANOSECONDS.toSeconds(limitNanos) + " s (the cluster does not answer)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted while waiting for the cluster");
        } catch (ExecutionException e) {
            throw new IOException(what + ": " + e.getCause(), e.getCause());
        }
        return RbdErrors.check(rv, what);
    }

    /** Operations submitted and not yet completed by librbd (for tests and metrics). */
    static int pending() {
        return PENDING.size();
    }
}
