package dev.apiary.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.chap.MasterKey;
import dev.apiary.chap.SecretBox;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.fleet.store.WorkerTable;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.iscsi.portal.TargetExport;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.lun.VolumeStore;
import dev.apiary.lun.file.FileStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fleet operations against a real file store, a real H2 file database and a real (unlistening) target. */
class FleetServiceTest {
    static final String A = "52:54:00:aa:00:01", B = "52:54:00:aa:00:02";

    @TempDir
    Path dir;

    FileStore store;
    Inventory inventory;
    TargetServer target;
    ExportPublisher exports;
    SecretBox secrets;

    @BeforeEach
    void open() throws Exception {
        store = FileStore.open(dir.resolve("store"));
        store.create("golden", 4 << 20);
        store.snapshot("golden", "v1");
        inventory = Inventory.open(dir);
        target = new TargetServer(TargetServer.Options.defaults());
        exports = new ExportPublisher(target, store);
        secrets = new SecretBox(MasterKey.loadOrCreate(dir.resolve("master.key")));
    }

    @AfterEach
    void close() throws Exception {
        exports.close();
        target.close();
        inventory.close();
        store.close();
    }

    FleetService fleet(FleetPolicy.Enrollment enrollment, String image) {
        return new FleetService(inventory, store, secrets, exports,
                new FleetPolicy(enrollment, "worker%d", "iqn.2026-11.dev.apiary.test", image, 16 << 20),
                Clock.systemUTC());
    }

    @Test
    void autoEnrollmentClonesTheRootMakesTheDataVolumeAndExportsOnlyToTheWorker() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        Worker w = fleet.enroll(A);
        assertThat(w.state()).isEqualTo(Worker.State.READY);
        assertThat(w.name()).isEqualTo("worker1");
        assertThat(w.luns()).extracting(Worker.Lun::volume).containsExactly("fleet.worker1.root", "fleet.worker1.data");
        assertThat(store.info("fleet.worker1.root").orElseThrow().parent())
                .contains(new VolumeStore.SnapshotRef("golden", "v1"));
        assertThat(store.info("fleet.worker1.data").orElseThrow().size()).isEqualTo(16 << 20);

        TargetExport t = target.exports().target("iqn.2026-11.dev.apiary.test:target.worker1").orElseThrow();
        assertThat(t.initiators()).containsExactly("iqn.2026-11.dev.apiary.test:worker1");
        assertThat(t.luns().units().keySet()).containsExactly(0, 1);
        assertThat(t.luns().units().get(0).volume().name()).endsWith("#fleet.worker1.root");
        assertThat(t.accounts()).singleElement().isEqualTo(fleet.chap(w));
        assertThat(t.mutual()).contains(fleet.mutual(w));
        assertThat(fleet.chap(w).secret()).isNotEqualTo(fleet.mutual(w).secret());

        assertThat(fleet.enroll(A)).as("a known MAC").isEqualTo(w);
        assertThat(fleet.enroll(B).name()).isEqualTo("worker2");
        assertThat(target.exports().targets()).hasSize(2);
    }

    @Test
    void secretsAreSealedInTheInventory() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        Worker w = fleet.enroll(A);
        String plain = fleet.chap(w).secret().reveal();
        assertThat(w.chapSecret()).isNotEqualTo(plain).doesNotContain(plain);
        // Another master key cannot open them.
        SecretBox other = new SecretBox(MasterKey.loadOrCreate(dir.resolve("other.key")));
        FleetService wrongKey = new FleetService(inventory, store, other, exports, fleet.policy(), Clock.systemUTC());
        assertThatThrownBy(() -> wrongKey.chap(w)).isNotNull();
    }

    @Test
    void approvalHoldsAnUnknownMachineWithoutVolumesUntilApproved() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.APPROVE, "golden@v1");
        Worker w = fleet.enroll(A);
        assertThat(w.state()).isEqualTo(Worker.State.PENDING);
        assertThat(w.luns()).isEmpty();
        assertThat(store.info("fleet.worker1.root")).isEmpty();
        assertThat(target.exports().targets()).isEmpty();

        Worker ready = fleet.approve("worker1");
        assertThat(ready.state()).isEqualTo(Worker.State.READY);
        assertThat(ready.mac()).isEqualTo(A);
        assertThat(target.exports().targets()).hasSize(1);
        assertThatThrownBy(() -> fleet.approve("worker1")).hasMessageContaining("READY, not PENDING");
        assertThatThrownBy(() -> fleet.approve("nobody")).hasMessageContaining("no worker nobody");
    }

    @Test
    void aFailedEnrollmentLeavesNothingBehind() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@missing");
        assertThatThrownBy(() -> fleet.enroll(A)).hasMessageContaining("missing");
        assertThat(fleet.workers()).isEmpty();
        assertThat(store.list()).extracting(VolumeStore.VolumeInfo::name).containsExactly("golden");
        assertThat(target.exports().targets()).isEmpty();

        FleetService noImage = fleet(FleetPolicy.Enrollment.AUTO, null);
        assertThatThrownBy(() -> noImage.enroll(A)).hasMessageContaining("fleet.image");
        assertThat(noImage.workers()).isEmpty();
        FleetService off = fleet(FleetPolicy.Enrollment.OFF, "golden@v1");
        assertThatThrownBy(() -> off.enroll(A)).hasMessageContaining("enrollment is off");
    }

    @Test
    void reconcileUndoesAnEnrollmentACrashInterruptedAndDeletesOrphans() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        Worker done = fleet.enroll(A);
        // What a crash between "row written" and "volumes made" leaves: an ENROLLING row, one volume.
        Worker half = new Worker(0, "worker9", B, Worker.State.ENROLLING, "iqn.2026-11.dev.apiary.test:worker9",
                "iqn.2026-11.dev.apiary.test:target.worker9", "golden@v1", "worker9", done.chapSecret(), "apiary",
                done.mutualSecret(), java.time.Instant.now(), Optional.empty(),
                List.of(new Worker.Lun(0, "fleet.worker9.root", Worker.Role.ROOT),
                        new Worker.Lun(1, "fleet.worker9.data", Worker.Role.DATA)));
        inventory.transaction(c -> WorkerTable.insert(c, half));
        store.clone("golden", "v1", "fleet.worker9.root");
        store.create("fleet.ghost.root", 1 << 20); // a volume with our prefix that no row owns
        store.create("users-own", 1 << 20); // not ours: left alone

        fleet.reconcile();
        assertThat(fleet.workers()).extracting(Worker::name).containsExactly("worker1");
        assertThat(store.list()).extracting(VolumeStore.VolumeInfo::name)
                .containsExactlyInAnyOrder("golden", "fleet.worker1.root", "fleet.worker1.data", "users-own");
        assertThat(target.exports().targets()).hasSize(1);
        assertThat(fleet.enroll(B).name()).as("the machine enrolls again on its next boot").isEqualTo("worker2");
    }

    @Test
    void replaceMovesTheIdentityRotatesSecretsAndRevokesTheOldMac() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        Worker old = fleet.enroll(A);
        String oldSecret = fleet.chap(old).secret().reveal();
        Worker moved = fleet.replace("worker1", B);
        assertThat(moved.mac()).isEqualTo(B);
        assertThat(moved.initiatorIqn()).isEqualTo(old.initiatorIqn());
        assertThat(moved.luns()).isEqualTo(old.luns());
        assertThat(fleet.chap(moved).secret().reveal()).isNotEqualTo(oldSecret);
        assertThat(target.exports().targets()).singleElement()
                .satisfies(t -> assertThat(t.accounts()).containsExactly(fleet.chap(moved)));
        assertThat(fleet.revoked(A)).isTrue();
        assertThatThrownBy(() -> fleet.enroll(A)).as("the dead box comes back").hasMessageContaining("refused");
        assertThat(fleet.workers()).hasSize(1);

        Worker other = fleet.enroll("52:54:00:aa:00:03");
        assertThatThrownBy(() -> fleet.replace("worker1", other.mac())).isInstanceOf(FleetService.Conflict.class)
                .hasMessageContaining("already enrolled as worker2");
        assertThatThrownBy(() -> fleet.replace("worker2", A)).isInstanceOf(FleetService.Conflict.class)
                .hasMessageContaining("refused");
        assertThatThrownBy(() -> fleet.replace("nobody", "52:54:00:aa:00:09"))
                .isInstanceOf(FleetService.NotFound.class);
    }

    @Test
    void reimageKeepsTheDataLunAndThePreviousRootUntilConfirmed() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        fleet.enroll(A);
        store.snapshot("golden", "v2");
        Worker w = fleet.reimage("worker1", "golden@v2");
        String newRoot = w.lun(Worker.Role.ROOT).orElseThrow().volume();
        assertThat(newRoot).startsWith("fleet.worker1.root-");
        assertThat(w.lun(Worker.Role.PREVIOUS).orElseThrow().volume()).isEqualTo("fleet.worker1.root");
        assertThat(w.lun(Worker.Role.DATA).orElseThrow().volume()).isEqualTo("fleet.worker1.data");
        assertThat(w.image()).isEqualTo("golden@v2");
        assertThat(store.info(newRoot).orElseThrow().parent()).contains(new VolumeStore.SnapshotRef("golden", "v2"));
        TargetExport t = target.exports().targets().get(0);
        assertThat(t.luns().units().keySet()).containsExactly(0, 1); // the previous root is not exported
        assertThat(t.luns().units().get(0).volume().name()).endsWith("#" + newRoot);
        assertThatThrownBy(() -> fleet.reimage("worker1", null)).hasMessageContaining("unconfirmed reimage");

        Worker back = fleet.rollback("worker1");
        assertThat(back.lun(Worker.Role.ROOT).orElseThrow().volume()).isEqualTo("fleet.worker1.root");
        assertThat(back.lun(Worker.Role.PREVIOUS)).isEmpty();
        assertThat(store.info(newRoot)).isEmpty();

        Worker again = fleet.reimage("worker1", "golden@v2");
        Worker kept = fleet.confirm("worker1");
        assertThat(kept.lun(Worker.Role.PREVIOUS)).isEmpty();
        assertThat(store.info("fleet.worker1.root")).as("the previous root is gone once confirmed").isEmpty();
        assertThat(kept.lun(Worker.Role.ROOT)).isEqualTo(again.lun(Worker.Role.ROOT));
        assertThatThrownBy(() -> fleet.confirm("worker1")).isInstanceOf(FleetService.Conflict.class);
        assertThatThrownBy(() -> fleet.reimage("worker1", "golden@nope")).hasMessageContaining("nope");
        assertThat(fleet.worker("worker1").state()).isEqualTo(Worker.State.READY);
        assertThat(fleet.worker("worker1").luns()).isEqualTo(kept.luns());
    }

    @Test
    void twoReimagesOfOneWorkerAtOnceOneWinsTheOtherConflicts() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        fleet.enroll(A);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Object>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    try {
                        return fleet.reimage("worker1", null);
                    } catch (FleetService.Conflict e) {
                        return e;
                    }
                }));
            }
            go.countDown();
            Object a = results.get(0).get(), b = results.get(1).get();
            long wins = java.util.stream.Stream.of(a, b).filter(r -> r instanceof Worker).count();
            assertThat(wins).as("%s / %s", a, b).isEqualTo(1);
            // The loser saw either "busy" (it overlapped) or "unconfirmed reimage" (it came just after).
            assertThat(java.util.stream.Stream.of(a, b).filter(r -> r instanceof FleetService.Conflict)).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
        Worker w = fleet.worker("worker1");
        assertThat(w.state()).isEqualTo(Worker.State.READY);
        assertThat(w.luns()).hasSize(3); // root, data, previous: no half state
        assertThat(store.list()).extracting(VolumeStore.VolumeInfo::name).filteredOn(n -> n.startsWith("fleet."))
                .hasSize(3);
    }

    /** Writes {@code text} at offset 0 of the worker's exported LUN, through the volume the target serves. */
    void write(int lun, String text) throws Exception {
        target.exports().targets().get(0).luns().units().get(lun).volume()
                .write(0, java.nio.ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)), true);
    }

    String read(int lun, int length) throws Exception {
        var b = java.nio.ByteBuffer.allocate(length);
        target.exports().targets().get(0).luns().units().get(lun).volume().read(0, b);
        return new String(b.array(), java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Test
    void snapshotsOfAWorkerRollBackItsRootAndDataAsAsked() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        fleet.enroll(A);
        WorkerSnapshots snaps = fleet.snapshots();
        write(0, "root-one");
        write(1, "data-one");
        WorkerSnapshots.Snapshot s = snaps.create("worker1", "before", WorkerSnapshots.ROLES);
        assertThat(s.parts()).extracting(WorkerSnapshots.Part::volume)
                .containsExactlyInAnyOrder("fleet.worker1.root", "fleet.worker1.data");
        snaps.create("worker1", "root-only", java.util.Set.of(Worker.Role.ROOT));
        assertThat(snaps.list("worker1")).extracting(WorkerSnapshots.Snapshot::name).containsExactly("before", "root-only");
        assertThatThrownBy(() -> snaps.create("worker1", "before", WorkerSnapshots.ROLES))
                .isInstanceOf(FleetService.Conflict.class);

        write(0, "root-two");
        write(1, "data-two");
        fleet.snapshots().rollback("worker1", "before", java.util.Set.of(Worker.Role.ROOT));
        assertThat(read(0, 8)).as("root rolled back").isEqualTo("root-one");
        assertThat(read(1, 8)).as("data not asked for").isEqualTo("data-two");
        Worker w = fleet.snapshots().rollback("worker1", "before", java.util.Set.of());
        assertThat(w.state()).isEqualTo(Worker.State.READY);
        assertThat(read(1, 8)).as("every volume the snapshot covers").isEqualTo("data-one");
        assertThat(target.exports().targets()).hasSize(1);

        assertThatThrownBy(() -> snaps.rollback("worker1", "root-only", java.util.Set.of(Worker.Role.DATA)))
                .isInstanceOf(FleetService.NotFound.class).hasMessageContaining("no data volume");
        assertThatThrownBy(() -> snaps.rollback("worker1", "nope", java.util.Set.of()))
                .isInstanceOf(FleetService.NotFound.class);
        snaps.delete("worker1", "before");
        assertThat(snaps.list("worker1")).extracting(WorkerSnapshots.Snapshot::name).containsExactly("root-only");
        assertThat(fleet.events(0, 100)).extracting(WorkerTable.Event::kind)
                .contains("snapshot", "snapshot-rollback", "snapshot-rolled-back", "snapshot-deleted");

        // A clone made from a worker's snapshot pins it: deleting it is refused, naming the clone.
        store.clone("fleet.worker1.root", "root-only", "copy");
        assertThatThrownBy(() -> snaps.delete("worker1", "root-only")).hasMessageContaining("copy");
        // A reimage's new root starts without snapshots; the old root keeps its own until confirmed.
        fleet.reimage("worker1", null);
        assertThat(snaps.list("worker1")).isEmpty();
    }

    @Test
    void reconcileEndsARollbackACrashCutShort() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        Worker w = fleet.enroll(A);
        inventory.transaction(c -> {
            WorkerTable.setState(c, w.id(), Worker.State.RESTORING);
            return null;
        });
        assertThatThrownBy(() -> fleet.snapshots().create("worker1", "x", WorkerSnapshots.ROLES))
                .isInstanceOf(FleetService.Conflict.class).hasMessageContaining("RESTORING");
        fleet.reconcile();
        assertThat(fleet.worker("worker1").state()).isEqualTo(Worker.State.READY);
        assertThat(target.exports().targets()).hasSize(1);
    }


    @Test
    void aMachineEnrolledBetweenItsTwoDhcpsStartsItsBootAtTheFirst() throws Exception {
        MovingClock clock = new MovingClock();
        FleetService fleet = new FleetService(inventory, store, secrets, exports,
                new FleetPolicy(FleetPolicy.Enrollment.AUTO, "worker%d", "iqn.2026-11.dev.apiary.test", "golden@v1",
                        16 << 20), clock);
        BootTimeline boots = fleet.boots();
        boots.dhcp(A); // the firmware's DHCP, while A is no worker
        boots.drain();
        Worker w = fleet.enroll(A);
        clock.at(1);
        boots.dhcp(A); // iPXE's DHCP, which finds the worker
        clock.at(2);
        fleet.seen(w, "script");
        boots.drain();
        assertThat(boots.boots("worker1", 10)).singleElement().satisfies(b -> assertThat(b.phases())
                .extracting(p -> p.phase() + "@" + p.sinceStart().toSeconds()).containsExactly("dhcp@0", "script@2"));
    }

    @Test
    void theBootTimelineFollowsDhcpScriptAndBothLoginsAndKeepsTenBoots() throws Exception {
        MovingClock clock = new MovingClock();
        FleetService fleet = new FleetService(inventory, store, secrets, exports,
                new FleetPolicy(FleetPolicy.Enrollment.AUTO, "worker%d", "iqn.2026-11.dev.apiary.test", "golden@v1",
                        16 << 20), clock);
        BootTimeline boots = fleet.boots();
        List<String> measured = new java.util.ArrayList<>();
        boots.onPhase((p, d) -> measured.add(p.label() + "=" + d.toSeconds()));
        String target = "iqn.2026-11.dev.apiary.test:target.worker1";

        boots.dhcp(A); // not a worker yet: remembered until it enrolls
        clock.at(1);
        boots.dhcp(A); // UEFI firmware, then iPXE
        clock.at(2);
        Worker w = fleet.enroll(A);
        fleet.seen(w, "script");
        clock.at(3);
        fleet.seen(w, "script again"); // a repeat: ignored
        clock.at(5);
        boots.login(target);
        boots.login(""); // a discovery session
        clock.at(30);
        boots.login(target);
        clock.at(31);
        boots.login(target);
        clock.at(40);
        FleetBootDecision decision = new FleetBootDecision(fleet, worker -> List.of());
        dev.apiary.pxe.Machine machine = new dev.apiary.pxe.Machine(A, null, true, Optional.empty());
        assertThat(decision.report(machine, "userspace", java.util.Map.of("version", "v1"))).isTrue();
        assertThat(decision.report(new dev.apiary.pxe.Machine(B, null, true, Optional.empty()), "userspace",
                java.util.Map.of())).as("not a worker").isFalse();
        assertThatThrownBy(() -> decision.report(machine, "dhcp", java.util.Map.of()))
                .as("only what an agent reports").isInstanceOf(IllegalArgumentException.class);
        boots.drain();
        List<BootTimeline.Boot> first = boots.boots("worker1", 10);
        assertThat(first).singleElement().satisfies(b -> {
            assertThat(b.number()).isEqualTo(1);
            assertThat(b.phases()).extracting(p -> p.phase() + "@" + p.sinceStart().toSeconds())
                    .containsExactly("dhcp@0", "script@2", "iscsi-login@5", "os-login@30", "userspace@40");
        });
        assertThat(measured).containsExactly("script=2", "iscsi-login=5", "os-login=30", "userspace=40");
        assertThat(fleet.events(0, 100)).extracting(WorkerTable.Event::detail).contains("userspace {version=v1}");

        clock.at(100);
        boots.dhcp(A); // it rebooted
        clock.at(104);
        fleet.seen(w, "script");
        boots.drain();
        assertThat(boots.boots("worker1", 10).get(0).phases()).extracting(BootTimeline.Reached::phase)
                .containsExactly("dhcp", "script");
        for (int i = 0; i < 12; i++) {
            clock.at(200 + 10 * i);
            boots.dhcp(A);
            clock.at(201 + 10 * i);
            boots.login(target);
        }
        boots.drain();
        List<BootTimeline.Boot> kept = boots.boots("worker1", 100);
        assertThat(kept).hasSize(BootTimeline.KEEP);
        assertThat(kept.get(0).number()).isEqualTo(14);
        assertThatThrownBy(() -> boots.boots("nobody", 1)).isInstanceOf(FleetService.NotFound.class);
    }

    @Test
    void imageVersionsAreKeptInTheInventoryWithWhenAndWhy() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        fleet.reconcile(); // golden@v1 was sealed with the store alone: it gets its row
        fleet.enroll(A);
        Images.Image g = fleet.images().seal("golden", "v2", "apt full-upgrade");
        assertThat(g.versions()).extracting(Images.Version::version, Images.Version::clones, v -> v.note().orElse(null))
                .containsExactly(org.assertj.core.groups.Tuple.tuple("v1", 1, "found in the store at start"),
                        org.assertj.core.groups.Tuple.tuple("v2", 0, "apt full-upgrade"));
        assertThat(g.versions()).allSatisfy(v -> assertThat(v.sealedAt()).isPresent());
        assertThatThrownBy(() -> fleet.images().seal("golden", "v2", null)).isInstanceOf(FleetService.Conflict.class);
        assertThatThrownBy(() -> fleet.images().seal("fleet.worker1.root", "x", null))
                .as("a worker's volume is no image").isInstanceOf(FleetService.NotFound.class);
        assertThat(fleet.images().list()).extracting(Images.Image::name).containsExactly("golden");
    }

    @Test
    void reconcileUndoesAReimageACrashInterrupted() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        Worker w = fleet.enroll(A);
        List<Worker.Lun> luns = new java.util.ArrayList<>(w.luns());
        luns.add(new Worker.Lun(Worker.NEWROOT_LUN, "fleet.worker1.root-x", Worker.Role.NEWROOT));
        inventory.transaction(c -> {
            WorkerTable.setLuns(c, w.id(), luns);
            WorkerTable.setState(c, w.id(), Worker.State.REIMAGING);
            return null;
        });
        store.clone("golden", "v1", "fleet.worker1.root-x");
        fleet.reconcile();
        Worker after = fleet.worker("worker1");
        assertThat(after.state()).isEqualTo(Worker.State.READY);
        assertThat(after.luns()).isEqualTo(w.luns());
        assertThat(store.info("fleet.worker1.root-x")).isEmpty();
        assertThat(target.exports().targets()).hasSize(1);
    }

    @Test
    void retireWithdrawsTheExportFreesTheMacAndKeepsTheVolumes() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        fleet.enroll(A);
        Worker r = fleet.retire("worker1");
        assertThat(r.state()).isEqualTo(Worker.State.RETIRED);
        assertThat(r.mac()).isNull();
        assertThat(target.exports().targets()).isEmpty();
        assertThat(store.info("fleet.worker1.root")).isPresent();
        fleet.reconcile();
        assertThat(store.info("fleet.worker1.data")).as("still owned: reconcile keeps it").isPresent();
        assertThatThrownBy(() -> fleet.retire("worker1")).isInstanceOf(FleetService.Conflict.class);
        assertThatThrownBy(() -> fleet.wakeable("worker1")).isInstanceOf(FleetService.Conflict.class);
        assertThat(fleet.enroll(A).name()).as("the machine, plugged in again, is a new worker").isEqualTo("worker2");
    }

    @Test
    void theImageSetThroughTheApiOverridesTheConfigAndPersists() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        store.snapshot("golden", "v2");
        assertThat(fleet.enroll(A).image()).isEqualTo("golden@v1");
        assertThatThrownBy(() -> fleet.setImage("golden@v9")).hasMessageContaining("no image version golden@v9");
        assertThatThrownBy(() -> fleet.setImage("fleet.worker1.root@x")).isInstanceOf(IllegalArgumentException.class);
        fleet.setImage("golden@v2");
        assertThat(fleet.enroll(B).image()).isEqualTo("golden@v2");
        assertThat(store.info("fleet.worker2.root").orElseThrow().parent())
                .contains(new VolumeStore.SnapshotRef("golden", "v2"));
        assertThat(fleet(FleetPolicy.Enrollment.AUTO, "golden@v1").image()).as("kept in the inventory").isEqualTo("golden@v2");
        assertThat(fleet.worker("worker1").image()).as("existing workers keep theirs").isEqualTo("golden@v1");
    }

    /**
     * The API's list: 250 workers in pages of 100 come back as three pages, every name once, in
     * name order (worker10 before worker9), each with its own LUNs, and the last page says there is
     * no next. Rows are inserted in shuffled order so name order is not id order.
     */
    @Test
    void workersPageByNameAcrossPagesWithTheirLuns() throws Exception {
        FleetService fleet = fleet(FleetPolicy.Enrollment.AUTO, "golden@v1");
        List<Integer> order = new java.util.ArrayList<>(java.util.stream.IntStream.rangeClosed(1, 250).boxed().toList());
        java.util.Collections.shuffle(order, new java.util.Random(5));
        inventory.transaction(c -> {
            for (int n : order) {
                String name = "worker" + n;
                // Every seventh is PENDING without volumes: a page mixes workers with LUNs and without.
                List<Worker.Lun> luns = n % 7 == 0 ? List.of() : List.of(
                        new Worker.Lun(1, Worker.volumeName(name, Worker.Role.DATA), Worker.Role.DATA),
                        new Worker.Lun(0, Worker.volumeName(name, Worker.Role.ROOT), Worker.Role.ROOT));
                WorkerTable.insert(c, new Worker(0, name, String.format("52:54:00:cc:%02x:%02x", n >> 8, n & 0xff),
                        luns.isEmpty() ? Worker.State.PENDING : Worker.State.READY, "iqn.t:" + name,
                        "iqn.t:target." + name, "golden@v1", name, "sealed", "apiary", "sealed",
                        java.time.Instant.now(), Optional.empty(), luns));
            }
            return null;
        });
        List<String> expected = order.stream().map(n -> "worker" + n).sorted().toList();

        List<Worker> seen = new java.util.ArrayList<>();
        List<Integer> sizes = new java.util.ArrayList<>();
        String after = null;
        for (int pages = 0; pages < 10; pages++) { // bounded: 3 expected
            WorkerTable.Page p = fleet.workers(after, 100);
            sizes.add(p.items().size());
            seen.addAll(p.items());
            if (p.next() == null) {
                break;
            }
            assertThat(p.next()).isEqualTo(p.items().get(p.items().size() - 1).name());
            after = p.next();
        }
        assertThat(sizes).containsExactly(100, 100, 50);
        assertThat(seen).extracting(Worker::name).containsExactlyElementsOf(expected);
        assertThat(expected.subList(0, 3)).containsExactly("worker1", "worker10", "worker100");
        for (Worker w : seen) {
            int n = Integer.parseInt(w.name().substring("worker".length()));
            assertThat(w.luns()).as(w.name()).isEqualTo(n % 7 == 0 ? List.of() : List.of(
                    new Worker.Lun(0, "fleet." + w.name() + ".root", Worker.Role.ROOT),
                    new Worker.Lun(1, "fleet." + w.name() + ".data", Worker.Role.DATA)));
        }
        assertThat(seen).as("a page holds what the whole list holds").containsExactlyInAnyOrderElementsOf(fleet.workers());

        WorkerTable.Page exact = fleet.workers(null, 250);
        assertThat(exact.items()).hasSize(250);
        assertThat(exact.next()).as("exactly the rest: no next").isNull();
        WorkerTable.Page between = fleet.workers("worker1000", 2);
        assertThat(between.items()).as("after a name no worker has").extracting(Worker::name)
                .containsExactly("worker101", "worker102");
        assertThat(between.next()).isEqualTo("worker102");
        WorkerTable.Page end = fleet.workers(expected.get(249), 100);
        assertThat(end.items()).isEmpty();
        assertThat(end.next()).isNull();
    }
}
