package dev.apiary.fleet;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ipxe.LinuxBoot;
import dev.apiary.pxe.ipxe.SanbootTarget;
import dev.apiary.pxe.ipxe.ScriptRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's answer to "what does this machine boot?" (the interface pxe-boot defines): a READY
 * worker gets a script for its root LUN on every gateway portal, with its CHAP and mutual CHAP
 * credentials, that boots the kernel its root names over HTTP (or sanboots a root that names
 * none); a PENDING one the wait-and-retry script; an unknown MAC is enrolled by policy when it
 * asks for its script (never from DHCP, which only learns that the fleet will answer).
 */
public final class FleetBootDecision implements BootDecision {
    private static final Logger log = LoggerFactory.getLogger(FleetBootDecision.class);

    private final FleetService fleet;
    private final java.util.function.Function<Worker, List<SanbootTarget.Portal>> portals;

    /** {@code portals}: a worker's gateway portals as they stand when it asks for its script, its owner's first. */
    public FleetBootDecision(FleetService fleet, java.util.function.Function<Worker, List<SanbootTarget.Portal>> portals) {
        this.fleet = fleet;
        this.portals = portals;
    }

    @Override
    public boolean answers(Machine machine) {
        return fleet.byMac(machine.mac()).isPresent() || mayEnroll(machine.mac());
    }

    @Override
    public void booting(Machine machine) {
        fleet.boots().dhcp(machine.mac());
    }

    /** The worker's agent: a boot phase for its timeline, and what it runs for the audit trail. */
    @Override
    public boolean report(Machine machine, String phase, java.util.Map<String, String> details) {
        Optional<Worker> w = fleet.byMac(machine.mac());
        if (w.isEmpty()) {
            return false;
        }
        fleet.boots().reported(machine.mac(), phase);
        fleet.audit(w.get(), "agent", phase + (details.isEmpty() ? "" : " " + details));
        try {
            fleet.upgrades().reported(w.get().name(), phase);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    @Override
    public boolean loggedIn(Machine machine) {
        return machine.address().isPresent()
                && fleet.byMac(machine.mac()).filter(w -> fleet.loggedIn(w, machine.address().get())).isPresent();
    }

    @Override
    public String action(Machine machine) {
        return fleet.byMac(machine.mac()).map(fleet::action).orElse("none");
    }

    @Override
    public boolean changelog(Machine machine, String text) {
        return fleet.byMac(machine.mac()).filter(w -> fleet.upgrades().changelog(w.name(), text)).isPresent();
    }

    /** Its kernel over HTTP when its boot disk names one (the faster path), else its disk's own loader. */
    private String ready(Worker w) {
        SanbootTarget target = new SanbootTarget(w.initiatorIqn(), w.targetIqn(), portals.apply(w), 0,
                w.chapUser(), fleet.chap(w).secret().reveal(), Optional.of(w.mutualUser()),
                Optional.of(fleet.mutual(w).secret().reveal()));
        Optional<LinuxBoot> linux = fleet.linux(w);
        if (linux.isPresent()) {
            try {
                return ScriptRenderer.linux(target, linux.get());
            } catch (IllegalArgumentException e) {
                // The command line comes from the worker's own disk: one iPXE cannot carry safely boots the disk's loader.
                log.warn("[boot] {}: {}; booting its own loader", w.name(), e.getMessage());
            }
        }
        return ScriptRenderer.sanboot(target);
    }

    @Override
    public Optional<dev.apiary.pxe.ServedFile> file(Machine machine, String name) throws IOException {
        Optional<Worker> w = fleet.byMac(machine.mac());
        return w.isEmpty() ? Optional.empty() : fleet.bootFile(w.get(), name);
    }

    /** An unknown MAC is enrolled unless enrollment is off or the MAC was replaced (retired workers have none). */
    private boolean mayEnroll(String mac) {
        return fleet.policy().enrollment() != FleetPolicy.Enrollment.OFF && !fleet.revoked(mac);
    }

    @Override
    public Optional<String> script(Machine machine) {
        Optional<Worker> known = fleet.byMac(machine.mac());
        if (known.isEmpty() && !mayEnroll(machine.mac())) {
            return Optional.empty();
        }
        Worker w;
        try {
            // A version assigned to the next boot (a rollout, a rollback) is made now, when the
            // OS that used the old root is gone.
            w = known.isPresent() ? fleet.nextBoot().apply(known.get()) : fleet.enroll(machine.mac());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        fleet.seen(w, "asked for its boot script (" + w.state() + ")");
        return Optional.of(switch (w.state()) {
            case READY -> ready(w);
            case PENDING -> ScriptRenderer.waitForApproval(w.name() + " is waiting for approval", 10);
            case REIMAGING -> ScriptRenderer.waitForApproval(w.name() + " is being reimaged", 5);
            case RESTORING -> ScriptRenderer.waitForApproval(w.name() + " is being rolled back to a snapshot", 5);
            case ENROLLING, RETIRED -> throw new IllegalStateException(w.name() + " is " + w.state());
        });
    }
}
