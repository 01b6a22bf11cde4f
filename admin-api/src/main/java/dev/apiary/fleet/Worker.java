package dev.apiary.fleet;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One worker as the inventory holds it. Its CHAP secrets stay sealed here ({@code chapSecret},
 * {@code mutualSecret} are SecretBox strings); {@link FleetService} opens them only to publish the
 * target or to write the boot script.
 */
public record Worker(
        long id,
        String name,
        String mac,
        State state,
        String initiatorIqn,
        String targetIqn,
        String image,
        String chapUser,
        String chapSecret,
        String mutualUser,
        String mutualSecret,
        Instant createdAt,
        Optional<Instant> lastSeen,
        List<Lun> luns) {

    public enum State {
        /** Enrollment is creating its volumes; restart undoes a worker left in this state. */
        ENROLLING,
        /** Waiting for an operator's approval (enrollment policy "approve"); no volumes yet. */
        PENDING,
        /** Has its volumes and its export; boots. */
        READY,
        /** A reimage is cloning its new root; restart drops the new clone and the worker is READY again. */
        REIMAGING,
        /** Its volumes are being rolled back to a snapshot, not exported; restart makes it READY again. */
        RESTORING,
        RETIRED
    }

    /**
     * ROOT (LUN 0) and DATA (LUN 1) are exported; PREVIOUS (LUN -1) is the root a reimage replaced,
     * kept for rollback until confirmed; NEWROOT (LUN -2) is a reimage's clone while it is made.
     */
    public enum Role { ROOT, DATA, PREVIOUS, NEWROOT }

    /** Reserved LUN numbers of the volumes that are not exported. */
    public static final int PREVIOUS_LUN = -1, NEWROOT_LUN = -2;

    /** One of the worker's volumes: LUN 0 is the root (a clone of its image), 1 the data volume. */
    public record Lun(int lun, String volume, Role role) {}

    public Worker {
        luns = List.copyOf(luns);
    }

    /** The volume names Apiary uses for a worker: one prefix, so restart can tell its own from a user's. */
    public static String volumeName(String worker, Role role) {
        return "fleet." + worker + "." + role.name().toLowerCase(java.util.Locale.ROOT);
    }

    public Optional<Lun> lun(Role role) {
        return luns.stream().filter(l -> l.role() == role).findFirst();
    }
}
