package dev.apiary.fleet;

import java.util.Objects;

/**
 * How the fleet treats machines it has not seen (the {@code fleet:} section of the config file).
 *
 * @param enrollment AUTO enrolls an unknown MAC on its first boot; APPROVE holds it as pending
 *     until an operator approves it; OFF ignores unknown machines
 * @param namePattern the new worker's name, {@code %d} replaced by the lowest unused number
 * @param iqnPrefix prefix of the initiator and target names given to workers (RFC 3720 §3.2.6.3.1)
 * @param image the snapshot new roots are cloned from, "volume@snapshot"; null until one exists
 * @param dataSize bytes of each worker's data volume (LUN 1), made with an empty ext4 on it
 */
public record FleetPolicy(Enrollment enrollment, String namePattern, String iqnPrefix, String image, long dataSize) {
    public enum Enrollment { AUTO, APPROVE, OFF }

    public FleetPolicy {
        Objects.requireNonNull(enrollment);
        if (!namePattern.contains("%d") || namePattern.replace("%d", "").contains("%")) {
            throw new IllegalArgumentException("name pattern needs exactly one %d: " + namePattern);
        }
    }

    public static FleetPolicy defaults() {
        return new FleetPolicy(Enrollment.AUTO, "worker%d", "iqn.2026-11.dev.apiary", null, 8L << 30);
    }
}
