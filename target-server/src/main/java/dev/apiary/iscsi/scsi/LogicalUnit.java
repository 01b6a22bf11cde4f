package dev.apiary.iscsi.scsi;

import dev.apiary.lun.Volume;
import dev.apiary.lun.VolumeFencedException;
import dev.apiary.lun.VolumeFullException;
import dev.apiary.lun.VolumeTimeoutException;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.StampedLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SCSI direct-access block device (SBC-3) over a {@link Volume}: the unit's identity, its
 * mode parameters, unit attentions and reservations, and the order in which a command meets them:
 * unit attention, then parsing and the LBA range check, then reservations, then execution (LIO's
 * target_setup_cmd_from_cdb order).
 *
 * <p>{@link #submit} may block before the volume I/O starts (a file volume's I/O, a lock), so the
 * transport calls it off its network threads, unless {@link #submitsWithoutWaiting} says this
 * command cannot block; either way it is answered when the I/O completes.
 */
public final class LogicalUnit {
    private static final Logger log = LoggerFactory.getLogger(LogicalUnit.class);

    final Volume volume;
    final LunIdentity identity;
    final int blockSize;
    final UnitAttentions attentions = new UnitAttentions();
    final ModePages modePages = new ModePages();
    final Reservations reservations = new Reservations(this);
    /**
     * COMPARE AND WRITE and ORWRITE must be atomic against every other write (SBC-3 §5.3):
     * they take the write side, ordinary writes share the read side until their volume I/O
     * completes, perhaps on another thread (so a StampedLock, which no thread owns).
     */
    final StampedLock atomicity = new StampedLock();

    private final BlockCommands block = new BlockCommands(this);
    private final DeviceCommands device = new DeviceCommands(this);
    private final CommandParser parser;
    private volatile long reportedSize;
    /** Set by the control plane for a unit on several gateways; null: the port a command came through, active/optimized. */
    private volatile PortGroups portGroups;

    public LogicalUnit(Volume volume, LunIdentity identity, int blockSize) {
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096, not " + blockSize);
        }
        this.volume = volume;
        this.identity = identity;
        this.blockSize = blockSize;
        this.parser = new CommandParser(this, block, device);
        this.reportedSize = volume.size();
    }

    public Volume volume() {
        return volume;
    }

    public LunIdentity identity() {
        return identity;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Capacity in logical blocks. */
    long blocks() {
        return volume.size() / blockSize;
    }

    /**
     * Whether {@link #submit} returns without blocking for this command: a plain READ or WRITE to
     * a volume that {@link Volume#submitsWithoutWaiting submits without waiting}. What comes
     * before the I/O is then in memory (unit attentions, parsing, reservations). A write takes a
     * share of {@link #atomicity}, which waits while a COMPARE AND WRITE or ORWRITE holds it, so
     * a write that finds it held goes the blocking way (a writer that takes it between this check
     * and the write's share holds it for one read and one write).
     */
    public boolean submitsWithoutWaiting(ScsiRequest request) {
        ScsiOpcode op = ScsiOpcode.of(request.cdb());
        return op != null && op.plainReadOrWrite() && volume.submitsWithoutWaiting()
                && !(op.access == ScsiOpcode.Access.WRITE && atomicity.isWriteLocked());
    }

    /** {@link #submit}, waiting for the result (for callers on their own thread: tests, tools). */
    public ScsiResult execute(ScsiRequest request) {
        return submit(request).toCompletableFuture().join();
    }

    /**
     * Runs a command: everything up to the volume I/O on the calling thread (which may block, so
     * never an event loop), the result when the I/O completes. The stage never fails: an error is
     * its CHECK CONDITION.
     */
    public CompletionStage<ScsiResult> submit(ScsiRequest request) {
        boolean descriptorSense = modePages.descriptorSense();
        try {
            noticeResize();
            attentions.seen(request.nexus());
            ScsiOpcode op = ScsiOpcode.of(request.cdb());
            if (op == null || !unitAttentionExempt(op)) {
                SenseReason ua = attentions.take(request.nexus());
                if (ua != null) {
                    throw new SenseException(ua);
                }
            }
            if (op == null) {
                throw new SenseException(SenseReason.INVALID_OPCODE);
            }
            PortGroups groups = portGroups;
            if (groups != null) { // unset: the port the command came through is active/optimized
                groups.stateOf(request.nexus().portGroup()).check(op);
            }
            Command command = parser.parse(request, op);
            if (reservations.conflicts(command)) {
                return CompletableFuture.completedFuture(ScsiResult.status(ScsiStatus.RESERVATION_CONFLICT));
            }
            return command.handler().run(command)
                    .exceptionally(e -> failed(Volume.failure(e), request, descriptorSense));
        } catch (SenseException | IOException | RuntimeException e) {
            return CompletableFuture.completedFuture(failed(e, request, descriptorSense));
        }
    }

    /** How a command that threw (or whose I/O failed) ends: its sense data, by what went wrong. */
    private ScsiResult failed(Throwable e, ScsiRequest request, boolean descriptorSense) {
        if (e instanceof SenseException s) {
            return ScsiResult.check(SenseEncoder.encode(s, descriptorSense), s.transferLength);
        }
        if (e instanceof VolumeFullException) {
            log.warn("[scsi] {}: {}", volume.name(), e.getMessage());
            return ScsiResult.check(SenseEncoder.encode(SenseReason.SPACE_ALLOCATION_FAILED, false, 0, descriptorSense));
        }
        if (e instanceof VolumeTimeoutException) {
            // The store did not answer in time (a Ceph cluster without quorum or OSDs): nothing is
            // known to be wrong with the medium, so NOT READY (SPC-4 §4.5.6, retryable), not a
            // medium error; the command ends instead of hanging.
            log.warn("[scsi] {}: {}", volume.name(), e.getMessage());
            return ScsiResult.check(SenseEncoder.encode(SenseReason.NOT_READY_CAUSE_NOT_REPORTABLE, false, 0,
                    descriptorSense));
        }
        if (e instanceof VolumeFencedException) {
            // Another gateway took the volume over and fenced this one: the medium is fine and
            // served there. SPC-4 §5.15.2.5: a port in transition answers NOT READY 04/0A, which
            // Linux fails as a path error (BLK_STS_TRANSPORT), so dm-multipath retries elsewhere.
            log.warn("[scsi] {}: {}", volume.name(), e.getMessage());
            return ScsiResult.check(SenseEncoder.encode(SenseReason.NOT_ACCESSIBLE_TRANSITIONING, false, 0,
                    descriptorSense));
        }
        log.error("[scsi] {}: I/O failed", volume.name(), e);
        SenseReason r = writes(request.cdb()) ? SenseReason.WRITE_ERROR : SenseReason.MEDIUM_ERROR_UNRECOVERED_READ;
        return ScsiResult.check(SenseEncoder.encode(r, false, 0, descriptorSense));
    }

    /**
     * The port groups this unit is reached through and its state in each (SPC-4 §5.15). A change
     * is a unit attention to every initiator (2A/06, SPC-4 §5.15.2.3), which is how Linux's ALUA
     * handler learns to move its I/O to the new owner's path.
     */
    public void portGroups(PortGroups groups) {
        PortGroups old = portGroups;
        portGroups = groups;
        if (!groups.equals(old)) {
            attentions.raiseAll(SenseReason.ASYMMETRIC_ACCESS_STATE_CHANGED, null);
        }
    }

    PortGroups portGroups(Nexus nexus) {
        PortGroups g = portGroups;
        return g != null ? g : PortGroups.single(nexus.portGroup(), nexus.relativePort());
    }

    /** SAM-5 §5.14: INQUIRY, REPORT LUNS and REQUEST SENSE neither report nor clear a unit attention. */
    private static boolean unitAttentionExempt(ScsiOpcode op) {
        return op == ScsiOpcode.INQUIRY || op == ScsiOpcode.REPORT_LUNS || op == ScsiOpcode.REQUEST_SENSE;
    }

    private static boolean writes(byte[] cdb) {
        ScsiOpcode op = ScsiOpcode.of(cdb);
        return op != null && op.access == ScsiOpcode.Access.WRITE;
    }

    /** SBC-3 §4.10: a capacity change is reported to every initiator as a unit attention. */
    private void noticeResize() {
        long size = volume.size();
        if (size != reportedSize) {
            reportedSize = size;
            attentions.raiseAll(SenseReason.CAPACITY_DATA_CHANGED, null);
        }
    }

    /**
     * A LOGICAL UNIT RESET (SAM-5 §7.7): SPC-2 reservations end, mode parameters return to their
     * defaults, and every I_T nexus, the one that asked included, gets a unit attention
     * (SAM-5 §6.3.3: BUS DEVICE RESET FUNCTION OCCURRED), so each initiator learns its tasks are gone.
     */
    public void reset() {
        reservations.resetSpc2();
        modePages.reset();
        attentions.raiseAll(SenseReason.BUS_DEVICE_RESET, null);
    }

    /**
     * An I_T nexus exists from login on (SAM-5 §4.6), not from its first command: a reset before
     * that command must still reach it with a unit attention.
     */
    public void nexusEstablished(Nexus nexus) {
        attentions.seen(nexus);
    }

    /** An I_T nexus is gone (session closed or reinstated): it loses its SPC-2 reservation (SPC-2 §5.5.1). */
    public void nexusLost(Nexus nexus) {
        reservations.nexusLost(nexus);
        attentions.forget(nexus);
    }
}
