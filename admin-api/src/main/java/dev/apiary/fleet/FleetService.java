package dev.apiary.fleet;

import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import dev.apiary.chap.SecretBox;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.gateway.ExportConfig;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.lun.VolumeStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet operations, one service for the API, the CLI and the boot path. Each operation keeps
 * the inventory and the volume store in step: its row is written (state ENROLLING) before any
 * volume is made, the volumes are made, then the row becomes READY and the new export table is
 * published. If it fails midway it undoes what it made; if the process dies midway,
 * {@link #reconcile} undoes it at the next start. Operations run one at a time.
 */
public final class FleetService {
    private static final Logger log = LoggerFactory.getLogger(FleetService.class);

    private final Inventory inventory;
    private final VolumeStore store;
    private final SecretBox secrets;
    private final ExportPublisher exports;
    private final FleetPolicy policy;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final WorkerLocks locks = new WorkerLocks();
    private final WorkerSnapshots snapshots;
    private final BootTimeline boots;
    private final Images images;
    private final NextBoot nextBoot;
    private final Upgrades upgrades;
    private final Rollouts rollouts;
    private final DiskKernels kernels;
    private final DataVolumes dataVolumes;

    /** The operation conflicts with the worker's state or with another operation on it (HTTP 409). */
    public static final class Conflict extends RuntimeException {
        public Conflict(String message) {
            super(message);
        }
    }

    /** No such worker (HTTP 404). */
    public static final class NotFound extends RuntimeException {
        public NotFound(String message) {
            super(message);
        }
    }

    public FleetService(Inventory inventory, VolumeStore store, SecretBox secrets, ExportPublisher exports,
            FleetPolicy policy, Clock clock) {
        this.inventory = inventory;
        this.store = store;
        this.secrets = secrets;
        this.exports = exports;
        this.policy = policy;
        this.clock = clock;
        this.snapshots = new WorkerSnapshots(this, inventory, store, exports, locks, clock);
        this.boots = new BootTimeline(inventory, clock);
        this.images = new Images(inventory, store, clock);
        this.nextBoot = new NextBoot(this, inventory, store, clock);
        this.upgrades = new Upgrades(this, inventory, store, clock);
        this.rollouts = new Rollouts(this, inventory, clock);
        this.kernels = new DiskKernels(store);
        this.dataVolumes = new DataVolumes(store);
    }

    /** The volume a READY worker boots as LUN 0: its root, or in a maintenance boot the image head it upgrades. */
    public String bootVolume(Worker w) {
        return Optional.ofNullable(upgrades.maintenanceRoots().get(w.name()))
                .orElseGet(() -> w.lun(Worker.Role.ROOT).orElseThrow().volume());
    }

    /** The kernel its boot volume's extlinux configuration names, for iPXE to fetch over HTTP; empty to sanboot. */
    public Optional<dev.apiary.pxe.ipxe.LinuxBoot> linux(Worker w) {
        return kernels.linux(w, bootVolume(w));
    }

    /** The worker's kernel or initrd ({@code name}), read from its boot volume; empty when it has none. */
    public Optional<dev.apiary.pxe.ServedFile> bootFile(Worker w, String name) throws IOException {
        return w.state() == Worker.State.READY ? kernels.open(bootVolume(w), name) : Optional.empty();
    }

    /** Image versions assigned to workers' next boots. */
    public NextBoot nextBoot() {
        return nextBoot;
    }

    /** Golden-image upgrades in maintenance mode. */
    public Upgrades upgrades() {
        return upgrades;
    }

    /** Rollouts of image versions in batches. */
    public Rollouts rollouts() {
        return rollouts;
    }

    /** Whether {@code ref} (VOLUME@SNAPSHOT) is a sealed version of an image (not a worker's volume). */
    public boolean imageExists(String ref) throws IOException {
        String[] p = ref.split("@", 2);
        return p.length == 2 && !p[0].startsWith("fleet.") && store.info(p[0])
                .map(v -> v.snapshots().stream().anyMatch(s -> s.name().equals(p[1]))).orElse(false);
    }

    /** Publishes the export table anew (the upgrade swaps a worker's LUNs for a maintenance boot). */
    public void publish() {
        exports.publish(exportTargets());
    }

    /**
     * What the gateways export: each READY worker one target, its LUN 0 root and LUN 1 data, its
     * CHAP account, mutual CHAP and an ACL naming only its initiator. A maintenance boot sees the
     * image head as its root and nothing of the worker's own. Owners are left for the gateways'
     * registry to assign.
     */
    public List<ExportConfig.Target> exportTargets() {
        Map<String, String> maintenance = upgrades.maintenanceRoots();
        List<ExportConfig.Target> out = new ArrayList<>();
        for (Worker w : workers()) {
            if (w.state() != Worker.State.READY) {
                continue;
            }
            List<Worker.Lun> own = maintenance.containsKey(w.name())
                    ? List.of(new Worker.Lun(0, maintenance.get(w.name()), Worker.Role.ROOT)) : w.luns();
            List<ExportConfig.Lun> luns = own.stream()
                    .filter(l -> l.lun() >= 0) // a previous root kept for rollback, or a clone being made: not exported
                    .map(l -> new ExportConfig.Lun(l.lun(), l.volume(), null)).toList();
            ChapCredentials chap = chap(w), mutual = mutual(w);
            out.add(new ExportConfig.Target(w.targetIqn(), w.initiatorIqn(), chap.user(),
                    chap.secret().reveal(), mutual.user(), mutual.secret().reveal(), luns));
        }
        return out;
    }

    /** Drops the worker's live sessions. */
    void fence(Worker w) {
        exports.fence(w.targetIqn());
    }

    /** Whether the worker's target has a live session: its machine is running. */
    public boolean hasSessions(Worker w) {
        return exports.hasSessions(w.targetIqn(), null);
    }

    /** Whether {@code from} has a live session to the worker's target: the worker's booted OS. */
    public boolean loggedIn(Worker w, java.net.InetAddress from) {
        return exports.hasSessions(w.targetIqn(), from);
    }

    /**
     * What the worker's agent should do now: {@code maintenance} in an upgrade's maintenance boot;
     * {@code reboot} when an upgrade or a next-boot image waits for it; else {@code none}.
     */
    public String action(Worker w) {
        return upgrades.action(w.name())
                .orElse(nextBoot.pending(w.name()).isPresent() ? "reboot" : "none");
    }

    /** Golden images and their versions. */
    public Images images() {
        return images;
    }

    /** The workers' boot timelines. */
    public BootTimeline boots() {
        return boots;
    }

    /** Snapshots and rollback of the workers' volumes. */
    public WorkerSnapshots snapshots() {
        return snapshots;
    }

    public FleetPolicy policy() {
        return policy;
    }

    /** The image new roots are cloned from: the one set through the API, else the config file's. */
    public String image() {
        return inventory.transaction(c -> WorkerTable.setting(c, "fleet.image")).orElse(policy.image());
    }

    /**
     * Rolls out a new version to new machines: from now on roots are cloned from {@code image}
     * (VOLUME@SNAPSHOT, which must exist). Existing workers keep theirs until reimaged.
     */
    public void setImage(String image) throws IOException {
        if (!imageExists(image)) {
            throw new IllegalArgumentException("no image version " + image);
        }
        inventory.transaction(c -> {
            WorkerTable.setSetting(c, "fleet.image", image);
            WorkerTable.event(c, clock.instant(), "image", null, "new roots are cloned from " + image);
            return null;
        });
    }

    public Optional<Worker> byMac(String mac) {
        return inventory.transaction(c -> WorkerTable.byMac(c, mac));
    }

    public List<Worker> workers() {
        return inventory.transaction(WorkerTable::all);
    }

    /** Workers by name after {@code after} (from the first when null), at most {@code limit}: what the API lists. */
    public WorkerTable.Page workers(String after, int limit) {
        return inventory.transaction(c -> WorkerTable.page(c, after, limit));
    }

    /** How many workers are in each state. */
    public java.util.Map<Worker.State, Long> countByState() {
        return inventory.transaction(WorkerTable::countByState);
    }

    public Worker worker(String name) {
        return inventory.transaction(c -> WorkerTable.byName(c, name)).orElseThrow(() -> new NotFound("no worker " + name));
    }

    /** The workers holding those of {@code volumes} that a worker holds. */
    public java.util.Map<String, WorkerTable.Owner> owners(java.util.Collection<String> volumes) {
        return inventory.transaction(c -> WorkerTable.owners(c, volumes));
    }

    /** The audit trail after event {@code after}, oldest first. */
    public List<WorkerTable.Event> events(long after, int limit) {
        return inventory.transaction(c -> WorkerTable.events(c, after, limit));
    }

    /** A MAC whose worker moved to another machine: refused for good. */
    public boolean revoked(String mac) {
        return inventory.transaction(c -> WorkerTable.revoked(c, mac));
    }

    /** The worker's CHAP account, opened from its sealed form. */
    public ChapCredentials chap(Worker w) {
        return new ChapCredentials(w.chapUser(), open(w, "chap", w.chapSecret()));
    }

    /** The target's credentials for mutual CHAP with this worker. */
    public ChapCredentials mutual(Worker w) {
        return new ChapCredentials(w.mutualUser(), open(w, "mutual", w.mutualSecret()));
    }

    /**
     * A machine booted that the inventory does not know: enroll it by policy. AUTO: a READY
     * worker with its root cloned from the fleet's image and a data volume (an empty ext4: {@link DataVolumes}); APPROVE: a
     * PENDING worker without volumes. A MAC already known returns its worker unchanged.
     */
    public synchronized Worker enroll(String mac) throws IOException {
        Optional<Worker> known = byMac(mac);
        if (known.isPresent()) {
            return known.get();
        }
        if (policy.enrollment() == FleetPolicy.Enrollment.OFF) {
            throw new IllegalStateException("enrollment is off: " + mac + " is not a worker");
        }
        if (revoked(mac)) {
            throw new Conflict(mac + " was replaced by another machine and is refused");
        }
        Worker draft = draft(mac);
        if (policy.enrollment() == FleetPolicy.Enrollment.APPROVE) {
            inventory.transaction(c -> {
                WorkerTable.insert(c, draft);
                WorkerTable.event(c, clock.instant(), "pending", draft.name(), "unknown machine " + mac + " waits for approval");
                return null;
            });
            log.info("[fleet] {} ({}) waits for approval", draft.name(), mac);
            return inventory.transaction(c -> WorkerTable.byName(c, draft.name())).orElseThrow();
        }
        return provision(draft);
    }

    /** Approves a pending worker: it gets its volumes and its export, and boots on its next try. */
    public synchronized Worker approve(String name) throws IOException {
        Worker w = worker(name);
        if (w.state() != Worker.State.PENDING) {
            throw new Conflict(name + " is " + w.state() + ", not PENDING");
        }
        inventory.transaction(c -> {
            WorkerTable.delete(c, w.id());
            return null;
        });
        return provision(w);
    }

    /**
     * Swaps a dead worker's machine (story 3): its name, IQN, LUNs and data move to {@code newMac};
     * its CHAP and mutual secrets are replaced, so the old machine's credentials stop working; its
     * live sessions are dropped (fencing) and the old MAC is refused from now on. The new machine
     * gets the new secrets in its boot script.
     */
    public Worker replace(String name, String newMac) {
        return locks.exclusive(name, () -> {
            Worker w = worker(name);
            if (w.state() != Worker.State.READY) {
                throw new Conflict(name + " is " + w.state() + ", not READY");
            }
            Optional<Worker> taken = byMac(newMac);
            if (taken.isPresent()) {
                throw new Conflict(newMac + " is already enrolled as " + taken.get().name());
            }
            if (revoked(newMac)) {
                throw new Conflict(newMac + " was replaced earlier and is refused");
            }
            String chap = seal(name, "chap", ChapSecret.generate(random));
            String mutual = seal(name, "mutual", ChapSecret.generate(random));
            inventory.transaction(c -> {
                WorkerTable.revoke(c, w.mac(), name, clock.instant());
                WorkerTable.moveTo(c, w.id(), newMac, chap, mutual);
                WorkerTable.event(c, clock.instant(), "replace", name, "moved from " + w.mac() + " to " + newMac
                        + "; old MAC revoked, secrets rotated");
                return null;
            });
            publish();
            exports.fence(w.targetIqn());
            log.info("[fleet] {} moved from {} to {}; the old machine is fenced", name, w.mac(), newMac);
            return worker(name);
        });
    }

    /**
     * A new root for the worker, cloned from {@code image} (or the fleet's image); the data LUN is
     * untouched; the old root is kept (not exported) until {@link #confirm} or {@link #rollback}.
     * The worker's live sessions are dropped: it must boot its new root.
     */
    public Worker reimage(String name, String image) throws IOException {
        return locks.exclusiveIo(name, () -> {
            Worker w = worker(name);
            if (w.state() != Worker.State.READY) {
                throw new Conflict(name + " is " + w.state() + ", not READY");
            }
            if (w.lun(Worker.Role.PREVIOUS).isPresent()) {
                throw new Conflict(name + " has an unconfirmed reimage: confirm or roll it back first");
            }
            String from = image != null ? image : image();
            if (from == null || !from.contains("@")) {
                throw new IllegalArgumentException("image must be VOLUME@SNAPSHOT");
            }
            String[] snap = from.split("@", 2);
            String newRoot = "fleet." + name + ".root-" + Long.toString(clock.millis(), 36);
            List<Worker.Lun> withNew = new java.util.ArrayList<>(w.luns());
            withNew.add(new Worker.Lun(Worker.NEWROOT_LUN, newRoot, Worker.Role.NEWROOT));
            inventory.transaction(c -> {
                WorkerTable.setLuns(c, w.id(), withNew);
                WorkerTable.setState(c, w.id(), Worker.State.REIMAGING);
                WorkerTable.event(c, clock.instant(), "reimage", name, "cloning " + newRoot + " from " + from);
                return null;
            });
            try {
                store.clone(snap[0], snap[1], newRoot);
            } catch (IOException | RuntimeException e) {
                undoReimage(w, newRoot);
                throw e;
            }
            Failpoint.hit("reimage.after-clone");
            Worker.Lun oldRoot = w.lun(Worker.Role.ROOT).orElseThrow();
            List<Worker.Lun> swapped = new ArrayList<>();
            for (Worker.Lun l : w.luns()) {
                swapped.add(l.role() == Worker.Role.ROOT
                        ? new Worker.Lun(Worker.PREVIOUS_LUN, l.volume(), Worker.Role.PREVIOUS) : l);
            }
            swapped.add(new Worker.Lun(oldRoot.lun(), newRoot, Worker.Role.ROOT));
            inventory.transaction(c -> {
                WorkerTable.setLuns(c, w.id(), swapped);
                WorkerTable.setImage(c, w.id(), from);
                WorkerTable.setState(c, w.id(), Worker.State.READY);
                WorkerTable.event(c, clock.instant(), "reimaged", name, "root " + newRoot + " from " + from
                        + "; previous root " + oldRoot.volume() + " kept until confirmed");
                return null;
            });
            publish();
            exports.fence(w.targetIqn());
            return worker(name);
        });
    }

    /**
     * Takes a worker out of the fleet: its export is withdrawn and its sessions dropped; its MAC is
     * freed (the machine would enroll afresh); its volumes are kept, named in the inventory, until
     * an operator deletes them.
     */
    public Worker retire(String name) {
        return locks.exclusive(name, () -> {
            Worker w = worker(name);
            if (w.state() != Worker.State.READY && w.state() != Worker.State.PENDING) {
                throw new Conflict(name + " is " + w.state() + "; only READY or PENDING workers retire");
            }
            inventory.transaction(c -> {
                WorkerTable.retire(c, w.id());
                WorkerTable.event(c, clock.instant(), "retire", name, "retired; MAC " + w.mac() + " freed; volumes kept");
                return null;
            });
            publish();
            exports.fence(w.targetIqn());
            return worker(name);
        });
    }

    /** The MAC to wake for a worker (Wake-on-LAN is sent by the caller, which knows the network). */
    public String wakeable(String name) {
        Worker w = worker(name);
        if (w.mac() == null || w.state() == Worker.State.RETIRED) {
            throw new Conflict(name + " is " + w.state() + " and has no machine to wake");
        }
        audit(w, "wake", "Wake-on-LAN sent to " + w.mac());
        return w.mac();
    }

    /** Keeps the new root: the previous one is deleted. */
    public Worker confirm(String name) throws IOException {
        return locks.exclusiveIo(name, () -> {
            Worker w = worker(name);
            Worker.Lun prev = w.lun(Worker.Role.PREVIOUS)
                    .orElseThrow(() -> new Conflict(name + " has no reimage to confirm"));
            inventory.transaction(c -> {
                WorkerTable.setLuns(c, w.id(), w.luns().stream().filter(l -> l != prev).toList());
                WorkerTable.event(c, clock.instant(), "reimage-confirmed", name, "deleting " + prev.volume());
                return null;
            });
            store.delete(prev.volume()); // a crash here leaves an orphan that reconcile() deletes
            return worker(name);
        });
    }

    /** Goes back to the previous root; the reimage's root is deleted. */
    public Worker rollback(String name) throws IOException {
        return locks.exclusiveIo(name, () -> {
            Worker w = worker(name);
            Worker.Lun prev = w.lun(Worker.Role.PREVIOUS)
                    .orElseThrow(() -> new Conflict(name + " has no previous root to roll back to"));
            Worker.Lun cur = w.lun(Worker.Role.ROOT).orElseThrow();
            List<Worker.Lun> back = new ArrayList<>();
            for (Worker.Lun l : w.luns()) {
                if (l.role() == Worker.Role.DATA) {
                    back.add(l);
                }
            }
            back.add(new Worker.Lun(cur.lun(), prev.volume(), Worker.Role.ROOT));
            Optional<String> prevImage = store.info(prev.volume()).flatMap(VolumeStore.VolumeInfo::parent)
                    .map(p -> p.volume() + "@" + p.snapshot());
            inventory.transaction(c -> {
                WorkerTable.setLuns(c, w.id(), back);
                if (prevImage.isPresent()) {
                    WorkerTable.setImage(c, w.id(), prevImage.get());
                }
                WorkerTable.event(c, clock.instant(), "rollback", name, "root back to " + prev.volume());
                return null;
            });
            publish();
            exports.fence(w.targetIqn());
            store.delete(cur.volume());
            return worker(name);
        });
    }

    private void undoReimage(Worker w, String newRoot) throws IOException {
        if (newRoot != null && store.info(newRoot).isPresent()) {
            store.delete(newRoot);
        }
        inventory.transaction(c -> {
            WorkerTable.setLuns(c, w.id(), w.luns().stream().filter(l -> l.role() != Worker.Role.NEWROOT).toList());
            WorkerTable.setState(c, w.id(), Worker.State.READY);
            WorkerTable.event(c, clock.instant(), "reimage-undone", w.name(), "reimage did not finish; undone");
            return null;
        });
    }

    /** ENROLLING row first, then the volumes, then READY and a new export table. */
    private Worker provision(Worker draft) throws IOException {
        String from = image();
        if (from == null) {
            throw new IllegalStateException("no image to clone roots from: set fleet.image (volume@snapshot)"
                    + " or PUT /api/v1/fleet/image");
        }
        String[] image = from.split("@", 2);
        String root = Worker.volumeName(draft.name(), Worker.Role.ROOT);
        String data = Worker.volumeName(draft.name(), Worker.Role.DATA);
        Worker enrolling = new Worker(0, draft.name(), draft.mac(), Worker.State.ENROLLING, draft.initiatorIqn(),
                draft.targetIqn(), from, draft.chapUser(), draft.chapSecret(), draft.mutualUser(),
                draft.mutualSecret(), clock.instant(), Optional.empty(),
                List.of(new Worker.Lun(0, root, Worker.Role.ROOT), new Worker.Lun(1, data, Worker.Role.DATA)));
        long id = inventory.transaction(c -> {
            long i = WorkerTable.insert(c, enrolling);
            WorkerTable.event(c, clock.instant(), "enroll", enrolling.name(),
                    "enrolling " + enrolling.mac() + " from " + from);
            return i;
        });
        Failpoint.hit("enroll.after-row");
        try {
            store.clone(image[0], image[1], root);
            Failpoint.hit("enroll.after-clone");
            dataVolumes.create(data, policy.dataSize());
        } catch (IOException | RuntimeException e) {
            undo(enrolling.name(), id, List.of(root, data));
            throw e;
        }
        inventory.transaction(c -> {
            WorkerTable.setState(c, id, Worker.State.READY);
            WorkerTable.event(c, clock.instant(), "enrolled", enrolling.name(), "root " + root + ", data " + data);
            return null;
        });
        publish();
        log.info("[fleet] enrolled {} ({}) from {}", enrolling.name(), enrolling.mac(), from);
        return inventory.transaction(c -> WorkerTable.byName(c, enrolling.name())).orElseThrow();
    }

    /** A new worker's identity: the next free name, its IQNs and fresh sealed secrets. */
    private Worker draft(String mac) {
        Set<String> taken = new HashSet<>();
        for (Worker w : workers()) {
            taken.add(w.name());
        }
        int n = 1;
        while (taken.contains(policy.namePattern().replace("%d", Integer.toString(n)))) {
            n++;
        }
        String name = policy.namePattern().replace("%d", Integer.toString(n));
        ChapSecret chap = ChapSecret.generate(random);
        ChapSecret mutual = ChapSecret.generate(random);
        return new Worker(0, name, mac, Worker.State.PENDING, policy.iqnPrefix() + ":" + name,
                policy.iqnPrefix() + ":target." + name, null, name, seal(name, "chap", chap), "apiary",
                seal(name, "mutual", mutual), clock.instant(), Optional.empty(), List.of());
    }

    /**
     * Restart after a crash: a worker left ENROLLING is undone (its volumes deleted, its row
     * removed; the machine enrolls again on its next boot), and a volume with Apiary's prefix that
     * no worker owns is deleted. Then the export table is published from what is left.
     */
    public synchronized void reconcile() throws IOException {
        for (Worker w : inventory.transaction(c -> WorkerTable.inState(c, Worker.State.ENROLLING))) {
            log.warn("[fleet] {} was left enrolling by a crash; undoing it", w.name());
            undo(w.name(), w.id(), w.luns().stream().map(Worker.Lun::volume).toList());
        }
        for (Worker w : inventory.transaction(c -> WorkerTable.inState(c, Worker.State.REIMAGING))) {
            log.warn("[fleet] {} was left reimaging by a crash; keeping its old root", w.name());
            undoReimage(w, w.lun(Worker.Role.NEWROOT).map(Worker.Lun::volume).orElse(null));
        }
        for (Worker w : inventory.transaction(c -> WorkerTable.inState(c, Worker.State.RESTORING))) {
            log.warn("[fleet] {} was left mid-rollback by a crash; each volume is as it was or rolled back", w.name());
            inventory.transaction(c -> {
                WorkerTable.setState(c, w.id(), Worker.State.READY);
                WorkerTable.event(c, clock.instant(), "snapshot-rollback-cut", w.name(), "a stop cut the rollback short;"
                        + " each volume is either as it was or at the snapshot: roll back again to finish it");
                return null;
            });
        }
        images.reconcile();
        Set<String> owned = new HashSet<>(inventory.transaction(WorkerTable::ownedVolumes));
        for (var v : store.list()) {
            if (v.name().startsWith("fleet.") && !owned.contains(v.name())) {
                log.warn("[fleet] deleting volume {}: no worker owns it", v.name());
                store.delete(v.name());
            }
        }
        publish();
    }

    private void undo(String name, long id, List<String> volumes) throws IOException {
        for (String v : volumes) {
            if (store.info(v).isPresent()) {
                store.delete(v);
            }
        }
        inventory.transaction(c -> {
            WorkerTable.delete(c, id);
            WorkerTable.event(c, clock.instant(), "enroll-undone", name, "enrollment did not finish; undone");
            return null;
        });
    }

    /** Adds an audit event about {@code w}; {@code detail} never holds a secret. */
    public void audit(Worker w, String kind, String detail) {
        inventory.transaction(c -> {
            WorkerTable.event(c, clock.instant(), kind, w.name(), detail);
            return null;
        });
    }

    /** Notes that a worker asked for its boot script: last seen, the audit trail, its boot timeline. */
    public void seen(Worker w, String what) {
        inventory.transaction(c -> {
            WorkerTable.seen(c, w.id(), clock.instant());
            WorkerTable.event(c, clock.instant(), "boot", w.name(), what);
            return null;
        });
        boots.script(w.name());
    }

    private String seal(String worker, String field, ChapSecret secret) {
        return secrets.seal(secret.bytes(), "worker/" + worker + "/" + field);
    }

    private ChapSecret open(Worker w, String field, String sealed) {
        return ChapSecret.of(new String(secrets.open(sealed, "worker/" + w.name() + "/" + field), StandardCharsets.UTF_8));
    }
}
