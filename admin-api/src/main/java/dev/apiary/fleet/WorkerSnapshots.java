package dev.apiary.fleet;

import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots of a worker's volumes (issue 5): one name over its root and/or data volume, taken
 * while it runs (each volume crash-consistent, as {@code rbd snap create} on a mapped image), and
 * rolled back while it is off. The store holds the snapshots; the worker's volumes are its rows.
 * A snapshot of the root goes with that root: a reimage's new root starts without any.
 */
public final class WorkerSnapshots {
    private static final Logger log = LoggerFactory.getLogger(WorkerSnapshots.class);
    /** The volumes a snapshot may cover; the others (a previous root, a clone being made) are transient. */
    public static final Set<Worker.Role> ROLES = Set.of(Worker.Role.ROOT, Worker.Role.DATA);

    /** One volume's part of a worker snapshot. */
    public record Part(Worker.Role role, String volume, long size) {}

    public record Snapshot(String name, List<Part> parts) {}

    private final FleetService fleet;
    private final Inventory inventory;
    private final VolumeStore store;
    private final ExportPublisher exports;
    private final WorkerLocks locks;
    private final Clock clock;

    WorkerSnapshots(FleetService fleet, Inventory inventory, VolumeStore store, ExportPublisher exports,
            WorkerLocks locks, Clock clock) {
        this.fleet = fleet;
        this.inventory = inventory;
        this.store = store;
        this.exports = exports;
        this.locks = locks;
        this.clock = clock;
    }

    public List<Snapshot> list(String worker) throws IOException {
        return list(fleet.worker(worker));
    }

    private List<Snapshot> list(Worker w) throws IOException {
        TreeMap<String, List<Part>> by = new TreeMap<>();
        for (Worker.Lun l : w.luns()) {
            if (!ROLES.contains(l.role())) {
                continue;
            }
            for (VolumeStore.SnapshotInfo s : store.info(l.volume()).map(VolumeStore.VolumeInfo::snapshots)
                    .orElse(List.of())) {
                by.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(new Part(l.role(), l.volume(), s.size()));
            }
        }
        return by.entrySet().stream().map(e -> new Snapshot(e.getKey(), e.getValue())).toList();
    }

    /** Snapshots {@code roles} of a READY worker as {@code name}; all or none of them. */
    public Snapshot create(String worker, String name, Set<Worker.Role> roles) throws IOException {
        return locks.exclusiveIo(worker, () -> {
            Worker w = ready(worker);
            if (list(w).stream().anyMatch(s -> s.name().equals(name))) {
                throw new FleetService.Conflict(worker + " already has a snapshot " + name);
            }
            List<Part> made = new ArrayList<>();
            try {
                for (Worker.Lun l : w.luns()) {
                    if (roles.contains(l.role())) {
                        VolumeStore.SnapshotInfo s = store.snapshot(l.volume(), name);
                        made.add(new Part(l.role(), l.volume(), s.size()));
                    }
                }
            } catch (IOException | RuntimeException e) {
                for (Part p : made) {
                    store.deleteSnapshot(p.volume(), name);
                }
                throw e;
            }
            fleet.audit(w, "snapshot", "snapshot " + name + " of " + describe(made));
            return new Snapshot(name, made);
        });
    }

    /** Deletes the snapshot from each volume that has it; refused (409) while a clone depends on it. */
    public Snapshot delete(String worker, String name) throws IOException {
        return locks.exclusiveIo(worker, () -> {
            Worker w = fleet.worker(worker);
            Snapshot s = find(w, name);
            for (Part p : s.parts()) {
                store.deleteSnapshot(p.volume(), name);
            }
            fleet.audit(w, "snapshot-deleted", "snapshot " + name + " of " + describe(s.parts()));
            return s;
        });
    }

    /**
     * Returns {@code roles} (those the snapshot covers, if empty) to the snapshot. The worker's
     * export is withdrawn and its sessions dropped first (a volume rolls back only while closed),
     * and published again after: the machine should be off, and boots the rolled-back volumes.
     */
    public Worker rollback(String worker, String name, Set<Worker.Role> roles) throws IOException {
        return locks.exclusiveIo(worker, () -> {
            Worker w = ready(worker);
            Snapshot s = find(w, name);
            List<Part> parts = s.parts().stream().filter(p -> roles.isEmpty() || roles.contains(p.role())).toList();
            for (Worker.Role r : roles) {
                if (parts.stream().noneMatch(p -> p.role() == r)) {
                    throw new FleetService.NotFound("snapshot " + name + " of " + worker + " has no "
                            + r.name().toLowerCase(java.util.Locale.ROOT) + " volume");
                }
            }
            setState(w, Worker.State.RESTORING, "snapshot-rollback", "rolling " + describe(parts) + " back to " + name);
            fleet.publish();
            exports.fence(w.targetIqn());
            try {
                for (Part p : parts) {
                    store.rollback(p.volume(), name);
                }
            } finally {
                setState(w, Worker.State.READY, "snapshot-rolled-back", describe(parts) + " at snapshot " + name);
                fleet.publish();
            }
            log.info("[fleet] {}: {} rolled back to {}", worker, describe(parts), name);
            return fleet.worker(worker);
        });
    }

    private Worker ready(String worker) {
        Worker w = fleet.worker(worker);
        if (w.state() != Worker.State.READY) {
            throw new FleetService.Conflict(worker + " is " + w.state() + ", not READY");
        }
        return w;
    }

    private Snapshot find(Worker w, String name) throws IOException {
        return list(w).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new FleetService.NotFound(w.name() + " has no snapshot " + name));
    }

    private void setState(Worker w, Worker.State state, String kind, String detail) {
        inventory.transaction(c -> {
            WorkerTable.setState(c, w.id(), state);
            WorkerTable.event(c, clock.instant(), kind, w.name(), detail);
            return null;
        });
    }

    private static String describe(List<Part> parts) {
        return String.join(" and ", parts.stream().map(Part::volume).toList());
    }
}
