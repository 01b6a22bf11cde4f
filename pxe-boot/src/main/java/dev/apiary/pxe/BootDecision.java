package dev.apiary.pxe;

import java.util.Optional;

/**
 * The one question the boot services ask (Pixiecore's Booter): what does this machine boot? The
 * DHCP services answer only machines with a decision; the HTTP service serves the decision's iPXE
 * script. The fleet implements this; until it does, {@link StaticBootDecision} reads a file.
 */
@FunctionalInterface
public interface BootDecision {
    /** The iPXE script for {@code machine}, or empty to ignore it (no DHCP answer, HTTP 404). */
    Optional<String> script(Machine machine);

    /**
     * Whether DHCP should point {@code machine} at us. DHCP asks this on its event loop for every
     * PXE client it hears, so a decision that does work when it writes a script (the fleet enrolls
     * an unknown machine) answers here without doing it.
     */
    default boolean answers(Machine machine) {
        return script(machine).isPresent();
    }

    /**
     * A file {@code machine}'s script loads over HTTP ({@code kernel} or {@code initrd}), or empty
     * (HTTP 404). Called off the event loop; the HTTP service closes what it gets.
     */
    default Optional<ServedFile> file(Machine machine, String name) throws java.io.IOException {
        return Optional.empty();
    }

    /**
     * DHCP is offering {@code machine} boot options (its DISCOVER was answered): a boot begins.
     * The fleet starts the machine's boot timeline here. Called on DHCP's event loop: hand off,
     * never block.
     */
    default void booting(Machine machine) {}

    /**
     * The machine, booted, reports a phase (its agent: {@code userspace}, {@code data-mounted},
     * ...) with details such as its image version. Returns false when it is no machine the
     * decision knows. Called off the event loop.
     */
    default boolean report(Machine machine, String phase, java.util.Map<String, String> details) {
        return false;
    }

    /**
     * Whether {@code machine.address()} has a live iSCSI session to the machine's own target:
     * the booted OS, which proved the machine's CHAP secret. Its agent may then speak for the MAC
     * without a recent DHCP sighting. Called off the event loop.
     */
    default boolean loggedIn(Machine machine) {
        return false;
    }

    /**
     * What the booted machine's agent should do now: {@code none}, {@code maintenance} (upgrade
     * the image it booted, then power off) or {@code reboot}. Called off the event loop.
     */
    default String action(Machine machine) {
        return "none";
    }

    /**
     * A maintenance boot's package changes ({@code upgraded P 1.0 -> 1.1} lines). Returns false
     * when the machine is not in a maintenance boot. Called off the event loop.
     */
    default boolean changelog(Machine machine, String text) {
        return false;
    }
}
