package dev.apiary.fleet;

import dev.apiary.fleet.store.ChangeTable;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "Boot image version X from the next boot on" (a rollout, a rollback, an operator's
 * assignment). The change waits in the worker's row and is made when the machine asks for its
 * boot script: then the OS that used the old root is gone, so no running system ever has its root
 * swapped under it. Going back to the version of the root kept by the last change swaps that root
 * back (its files included, as {@code reimage rollback} does); any other version is a fresh clone,
 * and the root kept from before is let go.
 */
public final class NextBoot {
    private static final Logger log = LoggerFactory.getLogger(NextBoot.class);

    private final FleetService fleet;
    private final Inventory inventory;
    private final VolumeStore store;
    private final Clock clock;

    NextBoot(FleetService fleet, Inventory inventory, VolumeStore store, Clock clock) {
        this.fleet = fleet;
        this.inventory = inventory;
        this.store = store;
        this.clock = clock;
    }

    /** Assigns {@code image} (VOLUME@SNAPSHOT, which must exist) to {@code name}'s next boot. */
    public Worker assign(String name, String image) throws IOException {
        Worker w = fleet.worker(name);
        if (w.state() != Worker.State.READY) {
            throw new FleetService.Conflict(name + " is " + w.state() + ", not READY");
        }
        if (!fleet.imageExists(image)) {
            throw new IllegalArgumentException("no image version " + image);
        }
        boolean same = image.equals(w.image()) && w.lun(Worker.Role.PREVIOUS).isEmpty();
        inventory.transaction(c -> {
            ChangeTable.setNextImage(c, name, same ? null : image);
            WorkerTable.event(c, clock.instant(), "assign", name, same ? "already boots " + image
                    : "boots " + image + " from its next boot");
            return null;
        });
        return fleet.worker(name);
    }

    /** The version waiting for {@code name}'s next boot, if any. */
    public Optional<String> pending(String name) {
        return inventory.transaction(c -> ChangeTable.nextImage(c, name));
    }

    /** At the boot script: makes the waiting change, if there is one, and returns the worker as it now is. */
    Worker apply(Worker w) throws IOException {
        Optional<String> next = pending(w.name());
        if (next.isEmpty() || w.state() != Worker.State.READY) {
            return w;
        }
        String image = next.get();
        Optional<Worker.Lun> prev = w.lun(Worker.Role.PREVIOUS);
        Optional<String> prevImage = prev.flatMap(p -> parent(p.volume()));
        if (prev.isPresent() && prevImage.equals(Optional.of(image))) {
            fleet.rollback(w.name());
        } else {
            if (prev.isPresent()) {
                fleet.confirm(w.name()); // the root kept from the change before goes; this one keeps the current
            }
            fleet.reimage(w.name(), image);
        }
        inventory.transaction(c -> {
            ChangeTable.setNextImage(c, w.name(), null);
            return null;
        });
        log.info("[fleet] {} boots {} from now on", w.name(), image);
        return fleet.worker(w.name());
    }

    private Optional<String> parent(String volume) {
        try {
            return store.info(volume).flatMap(VolumeStore.VolumeInfo::parent).map(p -> p.volume() + "@" + p.snapshot());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
