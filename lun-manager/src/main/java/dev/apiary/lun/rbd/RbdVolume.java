package dev.apiary.lun.rbd;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import dev.apiary.lun.StoreException;
import dev.apiary.lun.StoreException.Reason;
import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeFullException;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An open RBD image as a {@link Volume}. Every verb is one librbd aio call and a wait: reads and
 * writes go straight between librbd and a direct buffer (a heap buffer is copied once through
 * native memory), unmap is {@code write_zeroes} (it frees whole objects and zeroes partial ones, so
 * the range reads as zeros even in a clone over parent data; plain discard may skip partial
 * objects), FUA is a write then a flush.
 *
 * <p>The exclusive-lock feature makes librbd take the image's lock on the first write and hand it
 * over when another client asks. {@link #lockAcquire()} instead holds it until {@link
 * #lockRelease()}: another client's writes then fail (EROFS) rather than take it; a gateway taking
 * over from a dead or partitioned one breaks the lock ({@link #lockBreak}) after fencing it ({@link
 * RbdStore#blocklist}).
 */
public final class RbdVolume implements Volume {
    final String name;
    volatile Image image; // swapped by reopen; the store reads it for control calls
    private final RbdStore store;
    private final long waitLimitNanos;
    /** I/O holds it shared; close holds it exclusively, so no aio is submitted on a closed image. */
    private final ReentrantReadWriteLock closing = new ReentrantReadWriteLock();
    private boolean closed;
    int handles; // guarded by the store

    /** A client with the image open read-write: its address (what a blocklist entry names) and global id. */
    public record Watcher(String address, long clientId, long cookie) {}

    RbdVolume(RbdStore store, Image image, long waitLimitNanos) {
        this.store = store;
        this.name = image.name;
        this.image = image;
        this.waitLimitNanos = waitLimitNanos;
    }

    @Override
    public String name() {
        return "rbd:" + image.spec;
    }

    /** The size librbd knows now (resizes by other clients reach it through the header watch). */
    @Override
    public long size() {
        try {
            lastSize = guarded(image::size, "size of " + image.spec);
        } catch (IOException e) {
            if (lastSize < 0) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            // Fenced or cut off from the cluster: the size it had. The I/O that follows fails with
            // the reason, which the target reports as such (not as a medium error of a size query).
        }
        return lastSize;
    }

    private volatile long lastSize = -1;

    @FunctionalInterface
    private interface HandleCall<T> {
        T call() throws IOException;
    }

    /** Runs a call on the librbd handle unless it is closed: a closed handle is freed memory. */
    private <T> T guarded(HandleCall<T> call, String what) throws IOException {
        closing.readLock().lock();
        try {
            if (closed) {
                throw new IOException(what + ": the volume is closed");
            }
            return call.call();
        } finally {
            closing.readLock().unlock();
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        await(readAsync(offset, dst), "reading " + dst.remaining() + " bytes at " + offset + " of " + image.spec);
    }

    /** One librbd aio read into {@code dst}: completed from librbd's callback, no thread waits for it. */
    @Override
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst) {
        int len = dst.remaining();
        if (len == 0) {
            return CompletableFuture.completedFuture(null);
        }
        String what = "reading " + len + " bytes at " + offset + " of " + image.spec;
        if (dst.isDirect()) {
            Pointer p = Native.getDirectBufferPointer(dst).share(dst.position());
            return start(dst, c -> LibRbd.rbd_aio_read(image.handle, offset, len, p, c), what).thenApply(n -> {
                zeroTail(p, n, len);
                dst.position(dst.limit());
                return null;
            });
        }
        Memory m = new Memory(len);
        return start(m, c -> LibRbd.rbd_aio_read(image.handle, offset, len, m, c), what).thenApply(n -> {
            zeroTail(m, n, len);
            m.read(0, dst.array(), dst.arrayOffset() + dst.position(), len);
            dst.position(dst.limit());
            m.close();
            return null;
        });
    }

    /**
     * librbd queues an aio and returns (its messenger sends it, its own thread runs the callback);
     * the only wait is for {@link #close}, which holds the handle for a moment.
     */
    @Override
    public boolean submitsWithoutWaiting() {
        return true;
    }

    /** librbd returns fewer bytes only past the image's end, which reads as zeros. */
    private static void zeroTail(Pointer p, long got, int len) {
        if (got < len) {
            p.setMemory(Math.max(0, got), len - Math.max(0, got), (byte) 0);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        await(writeAsync(offset, src, fua), "writing " + src.remaining() + " bytes at " + offset + " of " + image.spec);
    }

    /** One librbd aio write of {@code src} (a heap buffer copied once to native memory), then a flush with FUA. */
    @Override
    public CompletableFuture<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        int len = src.remaining();
        CompletableFuture<Long> written;
        if (len == 0) {
            written = CompletableFuture.completedFuture(0L);
        } else {
            String what = "writing " + len + " bytes at " + offset + " of " + image.spec;
            if (src.isDirect()) {
                Pointer p = Native.getDirectBufferPointer(src).share(src.position());
                written = start(src, c -> LibRbd.rbd_aio_write(image.handle, offset, len, p, c), what);
            } else {
                Memory m = new Memory(len);
                m.write(0, src.array(), src.arrayOffset() + src.position(), len);
                written = start(m, c -> LibRbd.rbd_aio_write(image.handle, offset, len, m, c), what);
            }
            written = written.exceptionallyCompose(this::fullOr);
        }
        return written.thenCompose(n -> {
            src.position(src.limit());
            // FUA (SBC-3 §5.40): durable before it is acknowledged. Without the librbd cache the
            // write is already on every replica; the flush makes that true whatever the conf says.
            return fua ? flushAsync() : CompletableFuture.completedFuture(null);
        });
    }

    @Override
    public void flush() throws IOException {
        await(flushAsync(), "flushing " + image.spec);
    }

    private CompletableFuture<Void> flushAsync() {
        return start(null, c -> LibRbd.rbd_aio_flush(image.handle, c), "flushing " + image.spec).thenApply(n -> null);
    }

    @Override
    public void unmap(long offset, long length) throws IOException {
        if (length > 0) {
            String what = "unmapping " + length + " bytes at " + offset + " of " + image.spec;
            await(start(null, c -> LibRbd.rbd_aio_write_zeroes(image.handle, offset, length, c, 0, 0), what), what);
        }
    }

    /**
     * A write that timed out against a full pool is a full volume (SPACE ALLOCATION FAILED), not a
     * cluster that does not answer: librados holds writes to a full pool until the op timeout.
     */
    private CompletableFuture<Long> fullOr(Throwable failure) {
        Throwable e = Volume.failure(failure);
        if (!(e instanceof VolumeTimeoutException timeout)) {
            return CompletableFuture.failedFuture(e);
        }
        return poolFull().thenApply(full -> {
            throw new CompletionException(!full ? timeout : new VolumeFullException(name + ": the pool "
                    + store.config().pool() + " is full (its quota, or the cluster's full ratio): "
                    + timeout.getMessage(), timeout));
        });
    }

    /**
     * Whether the pool is full, asked of the monitors on a thread of its own (the call blocks, and
     * librbd's callback thread must not), once for all the writes that timed out together: a
     * queue depth of writes to an unreachable cluster waits out one more op timeout, not 32.
     */
    private CompletableFuture<Boolean> poolFull() {
        CompletableFuture<Boolean> asked = new CompletableFuture<>();
        CompletableFuture<Boolean> pending = fullQuestion.compareAndExchange(null, asked);
        if (pending != null) {
            return pending;
        }
        Thread.ofPlatform().daemon().name("rbd-pool-full").start(() -> {
            boolean full = false;
            try {
                full = store.poolFull();
            } catch (IOException | RuntimeException ignored) {
                // the monitors do not answer either: the timeout is the truth
            } finally {
                fullQuestion.set(null); // the next timeout asks afresh
                asked.complete(full);
            }
        });
        return asked;
    }

    private final AtomicReference<CompletableFuture<Boolean>> fullQuestion = new AtomicReference<>();

    /**
     * Submits one aio while the image is open; the future completes from librbd's callback with
     * its non-negative result, or fails with the error {@link RbdErrors} names.
     */
    private CompletableFuture<Long> start(Object keepAlive, Aio.Submit submit, String what) {
        try {
            return guarded(() -> Aio.start(keepAlive, submit, what), what).checked(what);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Waits for an I/O (an import waits for its writes in flight), at most the store's backstop over librados' own op timeout. */
    void await(CompletableFuture<?> io, String what) throws IOException {
        Aio.await(io, waitLimitNanos, what);
    }

    @Override
    public void resize(long newSize) throws IOException {
        store.resize(name, newSize);
    }

    // ---- exclusive lock ----

    /** Takes the image's exclusive lock and keeps it until {@link #lockRelease()}; IN_USE if another client holds it. */
    public void lockAcquire() throws IOException {
        int rc = guarded(() -> LibRbd.rbd_lock_acquire(image.handle, LibRbd.LOCK_MODE_EXCLUSIVE), "locking " + image.spec);
        if (rc == -RbdErrors.EROFS || rc == -RbdErrors.EBUSY || rc == -RbdErrors.EAGAIN) {
            List<String> owners = lockOwners();
            throw new StoreException(Reason.IN_USE, "volume " + name + ": the exclusive lock is held by "
                    + (owners.isEmpty() ? "another client" : String.join(", ", owners)) + " (" + RbdErrors.name(-rc) + ")");
        }
        RbdErrors.check(rc, "taking the exclusive lock of " + image.spec);
    }

    public void lockRelease() throws IOException {
        String what = "releasing the exclusive lock of " + image.spec;
        RbdErrors.check(guarded(() -> LibRbd.rbd_lock_release(image.handle), what), what);
    }

    /** Whether this handle holds the exclusive lock now. */
    public boolean isLockOwner() throws IOException {
        IntByReference owner = new IntByReference();
        String what = "lock owner of " + image.spec;
        RbdErrors.check(guarded(() -> LibRbd.rbd_is_exclusive_lock_owner(image.handle, owner), what), what);
        return owner.getValue() != 0;
    }

    /** Who holds the exclusive lock, by client address as librbd names them (e.g. "10.0.0.2:0/3012345678"); empty if nobody. */
    public List<String> lockOwners() throws IOException {
        for (long max = 4; ; ) {
            LongByReference n = new LongByReference(max);
            IntByReference mode = new IntByReference();
            try (Memory buf = new Memory(max * Native.POINTER_SIZE)) {
                int rc = guarded(() -> LibRbd.rbd_lock_get_owners(image.handle, mode, buf, n), "lock owners of " + image.spec);
                if (rc == -RbdErrors.ENOENT) {
                    return List.of();
                }
                if (rc == -RbdErrors.ERANGE) {
                    max = Math.max(n.getValue(), max * 2);
                    continue;
                }
                RbdErrors.check(rc, "lock owners of " + image.spec);
                List<String> owners = new ArrayList<>();
                for (long i = 0; i < n.getValue(); i++) {
                    owners.add(buf.getPointer(i * Native.POINTER_SIZE).getString(0));
                }
                LibRbd.rbd_lock_get_owners_cleanup(buf, n.getValue());
                return owners;
            }
        }
    }

    /**
     * Breaks another client's exclusive lock. Fence that client first ({@link RbdStore#blocklist}):
     * librbd refuses to break the lock of an owner that is still alive and watching the image.
     */
    public void lockBreak(String owner) throws IOException {
        String what = "breaking " + owner + "'s lock on " + image.spec;
        RbdErrors.check(guarded(() -> LibRbd.rbd_lock_break(image.handle, LibRbd.LOCK_MODE_EXCLUSIVE, owner), what), what);
    }

    /**
     * Takes the lock over from whoever holds it: blocklists the holder's client for {@code
     * fenceFor}, so nothing it still has in flight lands afterwards, breaks its lock and takes it.
     * Nothing to do if this handle holds it. Unless {@code evenIfAlive}, a holder that still
     * watches the image (a live client, or one dead for less than the OSDs' watch timeout) keeps
     * it: IN_USE. An initiator writing through this gateway is reason enough to take it even then
     * (it lost its path to the holder); an owner assigned by the control plane waits. Returns the
     * holders whose locks it broke (librbd blocklists each as it breaks its lock).
     */
    public List<String> takeOver(Duration fenceFor, boolean evenIfAlive) throws IOException {
        if (isLockOwner()) {
            return List.of();
        }
        List<Watcher> watchers = watchers();
        List<String> broken = new ArrayList<>();
        for (String owner : lockOwners()) {
            // librbd names a lock's owner by its client address, as watchers are named.
            List<Watcher> holder = watchers.stream().filter(w -> owner.equals(w.address())).toList();
            if (!holder.isEmpty() && !evenIfAlive) {
                throw new StoreException(Reason.IN_USE, "volume " + name + ": the exclusive lock is held by " + owner
                        + ", which still watches the image");
            }
            for (Watcher w : holder) {
                store.blocklist(w.address(), fenceFor);
            }
            lockBreak(owner);
            broken.add(owner + (holder.isEmpty() ? " (no longer watching)" : " (still watching)"));
        }
        lockAcquire();
        return broken;
    }

    /** Clients with the image open read-write, with the addresses a blocklist entry names. */
    public List<Watcher> watchers() throws IOException {
        return guarded(image::watchers, "watchers of " + image.spec);
    }

    @Override
    public void close() throws IOException {
        store.release(this);
    }

    /**
     * The store reconnected (its old client was fenced): from now on this volume is {@code fresh},
     * the image opened on the new connection. The old handle is closed; what it fails to flush
     * could not have landed anyway, for Ceph refuses its client. Locks it held are lost.
     */
    void reopen(Image fresh) {
        closing.writeLock().lock();
        try {
            if (closed) {
                closeQuietly(fresh);
            } else {
                retired.add(image); // closed with the volume: a control call (flatten) may still use it
                image = fresh;
            }
        } finally {
            closing.writeLock().unlock();
        }
    }

    private final List<Image> retired = new ArrayList<>();

    private static void closeQuietly(Image i) {
        try {
            i.close();
        } catch (IOException | RuntimeException e) {
            // a fenced client cannot flush or release: expected
        }
    }

    /** Called by the store when the last handle is closed: waits for I/O in flight, flushes, closes. */
    void closeImage() throws IOException {
        closing.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            retired.forEach(RbdVolume::closeQuietly);
            image.close(); // rbd_close flushes and releases the lock
        } finally {
            closing.writeLock().unlock();
        }
    }
}
