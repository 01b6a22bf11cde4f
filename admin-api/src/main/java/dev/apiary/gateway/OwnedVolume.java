package dev.apiary.gateway;

import dev.apiary.lun.ForwardingVolume;
import dev.apiary.lun.Volume;
import dev.apiary.lun.rbd.RbdVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * A volume as one gateway exports it, with this gateway's ownership of it. The owner holds the
 * volume's exclusive lock (on RBD; a file volume has one gateway, which always owns it). A write
 * reaching a gateway that does not own the volume means the initiator lost its path to the owner
 * (dm-multipath sends I/O to the active/optimized path while it has one, and a worker's LUNs have
 * one initiator): the gateway claims the volume first, fencing the old owner, as LIO's tcmu-runner
 * does for an implicit ALUA transition (SPC-4 §5.15.2.2), and tells the API node with its next
 * heartbeat. Reads need no lock and pass straight through.
 */
public final class OwnedVolume extends ForwardingVolume {
    /** How long a fenced client stays blocklisted: Ceph's own default for a broken lock's owner. */
    static final Duration FENCE_FOR = Duration.ofHours(1);

    /** Where writes that find the volume unowned claim it: a failover claims many volumes at once. */
    private static final Executor CLAIMS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "gateway-claim");
        t.setDaemon(true);
        return t;
    });

    private final String storeName;
    private final BiConsumer<OwnedVolume, List<String>> claimed;
    private volatile boolean owner;
    /** The configuration names this gateway the owner (its lock may still be on the way). */
    private volatile boolean assigned;
    /** Owned by this gateway's own claim, not yet confirmed by the API node's configuration. */
    private volatile boolean claim;

    /**
     * {@code claimed} hears of each lock this gateway takes because a write came through it, with
     * the holders it fenced; {@link #claim()} says whether the configuration named another owner.
     */
    public OwnedVolume(String storeName, Volume volume, BiConsumer<OwnedVolume, List<String>> claimed) {
        super(volume);
        this.storeName = storeName;
        this.claimed = claimed;
    }

    /** The volume's name in the store (what the configuration names). */
    public String storeName() {
        return storeName;
    }

    public boolean owner() {
        return owner;
    }

    /** Whether this gateway owns the volume by its own claim, which the API node has not confirmed yet. */
    public boolean claim() {
        return claim;
    }

    /** What the configuration says: whether this gateway is the owner. */
    public void assign(boolean mine) {
        assigned = mine;
    }

    /**
     * The configuration names this gateway the owner: take the lock, over from a dead owner if need
     * be; a holder that is still alive keeps it (IN_USE) until it lets go or dies.
     */
    public synchronized List<String> acquire() throws IOException {
        List<String> broken = volume instanceof RbdVolume rbd ? rbd.takeOver(FENCE_FOR, false) : List.of();
        owner = true;
        claim = false;
        return broken;
    }

    /** The configuration names another owner: let the lock go (it may be lost already, if we were fenced). */
    public synchronized void release() throws IOException {
        if (!owner) {
            return;
        }
        owner = false;
        claim = false;
        if (volume instanceof RbdVolume rbd) {
            rbd.lockRelease();
        }
    }

    /** Ceph fenced this gateway and it reconnected: whatever lock it held is gone. */
    public synchronized void lost() {
        owner = false;
        claim = false;
    }

    private void writing() throws IOException {
        if (!owner) {
            synchronized (this) {
                if (!owner) {
                    List<String> broken = volume instanceof RbdVolume rbd ? rbd.takeOver(FENCE_FOR, true) : List.of();
                    owner = true;
                    claim = !assigned;
                    claimed.accept(this, broken);
                }
            }
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        writing();
        volume.write(offset, src, fua);
    }

    /**
     * The owner writes at once. Otherwise the volume is claimed first, which waits on the cluster
     * (breaking the old owner's lock, blocklisting it), so that runs on a thread of its own and the
     * write follows: the caller never waits, and may be a network thread (see {@link
     * Volume#submitsWithoutWaiting}).
     */
    @Override
    public CompletionStage<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        if (owner) {
            return volume.writeAsync(offset, src, fua);
        }
        return CompletableFuture.runAsync(() -> {
            try {
                writing();
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, CLAIMS).thenCompose(v -> volume.writeAsync(offset, src, fua));
    }

    @Override
    public void flush() throws IOException {
        writing();
        volume.flush();
    }

    @Override
    public void unmap(long offset, long length) throws IOException {
        writing();
        volume.unmap(offset, length);
    }
}
