package dev.apiary.fleet;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ipxe.SanbootTarget;
import dev.apiary.pxe.ipxe.ScriptRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * The fleet's answer to "what does this machine boot?" (the interface pxe-boot defines): a READY
 * worker gets a sanboot script for its root LUN on every gateway portal, with its CHAP and mutual
 * CHAP credentials; a PENDING one the wait-and-retry script; an unknown MAC is enrolled by policy
 * when it asks for its script (never from DHCP, which only learns that the fleet will answer).
 */
public final class FleetBootDecision implements BootDecision {
    private final FleetService fleet;
    private final List<SanbootTarget.Portal> portals;

    public FleetBootDecision(FleetService fleet, List<SanbootTarget.Portal> portals) {
        this.fleet = fleet;
        this.portals = List.copyOf(portals);
    }

    @Override
    public boolean answers(Machine machine) {
        return fleet.byMac(machine.mac()).map(w -> w.state() != Worker.State.RETIRED)
                .orElseGet(() -> fleet.policy().enrollment() != FleetPolicy.Enrollment.OFF
                        && !fleet.revoked(machine.mac()));
    }

    @Override
    public Optional<String> script(Machine machine) {
        if (!answers(machine)) {
            return Optional.empty();
        }
        Worker w;
        try {
            w = fleet.enroll(machine.mac()); // returns the known worker unchanged
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        fleet.seen(w, "asked for its boot script (" + w.state() + ")");
        return Optional.of(switch (w.state()) {
            case READY -> ScriptRenderer.sanboot(new SanbootTarget(w.initiatorIqn(), w.targetIqn(), portals, 0,
                    w.chapUser(), fleet.chap(w).secret().reveal(), Optional.of(w.mutualUser()),
                    Optional.of(fleet.mutual(w).secret().reveal())));
            case PENDING -> ScriptRenderer.waitForApproval(w.name() + " is waiting for approval", 10);
            case REIMAGING -> ScriptRenderer.waitForApproval(w.name() + " is being reimaged", 5);
            case ENROLLING, RETIRED -> throw new IllegalStateException(w.name() + " is " + w.state());
        });
    }
}
