package dev.apiary.fleet;

import dev.apiary.fleet.store.ImageTable;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Golden images and their versions. An image is a store volume that is not a worker's
 * ({@code fleet.*}); a version is one of its sealed snapshots, which roots are cloned from. The
 * store holds the bytes; the inventory holds when each version was sealed and its note.
 */
public final class Images {
    /** One version: how many worker roots (and other volumes) were cloned from it. */
    public record Version(String version, String ref, int clones, Optional<Instant> sealedAt, Optional<String> note) {}

    public record Image(String name, long size, List<Version> versions) {}

    private final Inventory inventory;
    private final VolumeStore store;
    private final Clock clock;

    Images(Inventory inventory, VolumeStore store, Clock clock) {
        this.inventory = inventory;
        this.store = store;
        this.clock = clock;
    }

    public List<Image> list() throws IOException {
        Map<String, ImageTable.Version> rows = inventory.transaction(ImageTable::all);
        List<Image> out = new ArrayList<>();
        for (VolumeStore.VolumeInfo v : store.list()) {
            if (!v.name().startsWith("fleet.")) {
                out.add(describe(v, rows));
            }
        }
        return out;
    }

    public Image image(String name) throws IOException {
        return describe(volume(name), inventory.transaction(ImageTable::all));
    }

    /** Seals the image as it is now as {@code version}. */
    public Image seal(String name, String version, String note) throws IOException {
        VolumeStore.VolumeInfo v = volume(name);
        if (v.snapshots().stream().anyMatch(s -> s.name().equals(version))) {
            throw new FleetService.Conflict(name + "@" + version + " exists");
        }
        store.snapshot(name, version);
        Instant at = clock.instant();
        inventory.transaction(c -> {
            ImageTable.add(c, name, version, at, note);
            WorkerTable.event(c, at, "seal", null, "sealed " + name + "@" + version);
            return null;
        });
        return image(name);
    }

    /** Gives every version sealed outside the server (the store CLI, or a crash before its row) its row. */
    void reconcile() throws IOException {
        Map<String, ImageTable.Version> rows = inventory.transaction(ImageTable::all);
        Instant now = clock.instant();
        for (VolumeStore.VolumeInfo v : store.list()) {
            for (VolumeStore.SnapshotInfo s : v.snapshots()) {
                if (!v.name().startsWith("fleet.") && !rows.containsKey(v.name() + "@" + s.name())) {
                    inventory.transaction(c -> {
                        ImageTable.add(c, v.name(), s.name(), now, "found in the store at start");
                        return null;
                    });
                }
            }
        }
    }

    private VolumeStore.VolumeInfo volume(String name) throws IOException {
        return store.info(name).filter(v -> !v.name().startsWith("fleet."))
                .orElseThrow(() -> new FleetService.NotFound("no image " + name));
    }

    private static Image describe(VolumeStore.VolumeInfo v, Map<String, ImageTable.Version> rows) {
        List<Version> versions = new ArrayList<>();
        for (VolumeStore.SnapshotInfo s : v.snapshots()) {
            String ref = v.name() + "@" + s.name();
            Optional<ImageTable.Version> row = Optional.ofNullable(rows.get(ref));
            versions.add(new Version(s.name(), ref, s.clones().size(), row.map(ImageTable.Version::sealedAt),
                    row.flatMap(ImageTable.Version::note)));
        }
        return new Image(v.name(), v.size(), versions);
    }
}
