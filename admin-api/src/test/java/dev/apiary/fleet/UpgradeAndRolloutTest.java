package dev.apiary.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.chap.MasterKey;
import dev.apiary.chap.SecretBox;
import dev.apiary.fleet.store.ChangeTable;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.iscsi.portal.TargetExport;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.lun.Volume;
import dev.apiary.lun.file.FileStore;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ipxe.SanbootTarget;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Story 4's state machines, driven the way machines drive them (boot scripts, agent reports,
 * the controller's ticks) against a real file store, H2 and an unlistening target: what each
 * worker's target exports at each step, and what a clone of the sealed version holds.
 * WorkerStoriesIT does the same with booting machines.
 */
class UpgradeAndRolloutTest {
    static final String A = "52:54:00:aa:00:01", B = "52:54:00:aa:00:02";

    @TempDir
    Path dir;

    FileStore store;
    Inventory inventory;
    TargetServer target;
    ExportPublisher exports;
    FleetService fleet;
    FleetBootDecision decision;
    MovingClock clock = new MovingClock();
    List<String> woken = new CopyOnWriteArrayList<>();

    @BeforeEach
    void open() throws Exception {
        store = FileStore.open(dir.resolve("store"));
        store.create("golden", 4 << 20);
        write(store.open("golden"), 0x11);
        store.snapshot("golden", "v1");
        inventory = Inventory.open(dir);
        target = new TargetServer(TargetServer.Options.defaults());
        exports = new ExportPublisher(target, store);
        fleet = new FleetService(inventory, store, new SecretBox(MasterKey.loadOrCreate(dir.resolve("master.key"))),
                exports, new FleetPolicy(FleetPolicy.Enrollment.AUTO, "worker%d", "iqn.2026-11.dev.apiary.test", "golden@v1",
                        1 << 20), clock);
        fleet.upgrades().wakeWith(woken::add);
        fleet.rollouts().wakeWith(woken::add);
        decision = new FleetBootDecision(fleet, w -> List.of(new SanbootTarget.Portal("10.77.0.1", 3260)));
        fleet.reconcile();
    }

    @AfterEach
    void close() throws Exception {
        fleet.boots().close();
        exports.close();
        target.close();
        inventory.close();
        store.close();
    }

    static void write(Volume v, int b) throws Exception {
        try (v) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (buf.hasRemaining()) {
                buf.put((byte) b);
            }
            v.write(0, buf.flip(), true);
        }
    }

    static int firstByte(Volume v) throws Exception {
        ByteBuffer buf = ByteBuffer.allocate(512);
        v.read(0, buf);
        return buf.get(0) & 0xff;
    }

    Map<Integer, String> exported(String worker) {
        TargetExport t = target.exports().target("iqn.2026-11.dev.apiary.test:target." + worker).orElseThrow();
        Map<Integer, String> m = new java.util.TreeMap<>();
        t.luns().units().forEach((lun, u) -> m.put(lun, u.volume().name().replaceAll(".*#", "")));
        return m;
    }

    /** The machine boots: its script (where next-boot changes are made), then its agent's report. */
    void boot(String mac, int at) throws Exception {
        clock.at(at);
        assertThat(decision.script(new Machine(mac, null, true, Optional.empty()))).isPresent();
        clock.at(at + 1);
        assertThat(decision.report(new Machine(mac, null, false, Optional.empty()), "userspace", Map.of())).isTrue();
        fleet.boots().drain();
        clock.at(at + 2);
    }

    @Test
    void anUpgradeBootsTheImageHeadOnTheWorkerAndSealsItWithItsChangelog() throws Exception {
        boot(A, 0);
        Machine a = new Machine(A, null, false, Optional.empty());
        assertThat(exported("worker1")).containsExactly(Map.entry(0, "fleet.worker1.root"), Map.entry(1, "fleet.worker1.data"));
        assertThatThrownBy(() -> fleet.upgrades().start("golden", "nobody", null)).isInstanceOf(FleetService.NotFound.class);
        assertThatThrownBy(() -> fleet.upgrades().start("golden", "worker1", "../x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> fleet.upgrades().start("golden", "worker1", "v1")).isInstanceOf(FleetService.Conflict.class);

        ChangeTable.Upgrade u = fleet.upgrades().start("golden", "worker1", null);
        assertThat(u.toVersion()).isEqualTo("v2");
        assertThat(u.state()).isEqualTo("PREPARING");
        assertThatThrownBy(() -> fleet.upgrades().start("golden", "worker1", "v3")).as("one at a time")
                .isInstanceOf(FleetService.Conflict.class);
        fleet.upgrades().tick(); // no session: the worker is off, so its maintenance boot can start
        assertThat(fleet.upgrades().get("golden", u.id()).state()).isEqualTo("BOOTING");
        assertThat(woken).containsExactly(A);
        assertThat(exported("worker1")).as("only the image head").containsExactly(Map.entry(0, "golden"));
        assertThat(decision.action(a)).isEqualTo("maintenance v2");
        assertThat(decision.action(new Machine(B, null, false, Optional.empty()))).isEqualTo("none");

        // The maintenance boot writes (apt), hands in its changelog, reports done and powers off.
        Volume head = target.exports().target("iqn.2026-11.dev.apiary.test:target.worker1").orElseThrow()
                .luns().units().get(0).volume();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (buf.hasRemaining()) {
            buf.put((byte) 0x22);
        }
        head.write(0, buf.flip(), true);
        assertThat(decision.changelog(a, "upgraded p 1.0 -> 1.1\ninstalled q 2\n")).isTrue();
        assertThat(decision.changelog(new Machine(B, null, false, Optional.empty()), "x")).as("not in maintenance").isFalse();
        decision.report(a, "maintenance-done", Map.of());
        assertThat(fleet.upgrades().get("golden", u.id()).state()).isEqualTo("UPGRADED");
        fleet.upgrades().tick();
        ChangeTable.Upgrade sealed = fleet.upgrades().get("golden", u.id());
        assertThat(sealed.state()).isEqualTo("SEALED");
        assertThat(sealed.changelog()).contains("upgraded p 1.0 -> 1.1\ninstalled q 2\n");
        assertThat(fleet.images().image("golden").versions()).extracting(Images.Version::version).containsExactly("v1", "v2");
        assertThat(fleet.images().image("golden").versions().get(1).note()).contains("upgrade " + u.id() + " of v1: 2 package change(s)");
        assertThat(exported("worker1")).as("its own LUNs again")
                .containsExactly(Map.entry(0, "fleet.worker1.root"), Map.entry(1, "fleet.worker1.data"));
        assertThat(decision.action(a)).isEqualTo("none");

        // What the maintenance boot wrote is in v2, and v1 is untouched.
        store.clone("golden", "v2", "check2");
        store.clone("golden", "v1", "check1");
        try (Volume c2 = store.open("check2"); Volume c1 = store.open("check1")) {
            assertThat(firstByte(c2)).isEqualTo(0x22);
            assertThat(firstByte(c1)).isEqualTo(0x11);
        }
    }

    @Test
    void aFailedOrCancelledUpgradeRollsTheHeadBack() throws Exception {
        boot(A, 0);
        ChangeTable.Upgrade u = fleet.upgrades().start("golden", "worker1", "next");
        fleet.upgrades().tick();
        decision.report(new Machine(A, null, false, Optional.empty()), "maintenance-failed", Map.of());
        ChangeTable.Upgrade failed = fleet.upgrades().get("golden", u.id());
        assertThat(failed.state()).isEqualTo("FAILED");
        assertThat(failed.error()).hasValueSatisfying(e -> assertThat(e).contains("apt-get failed"));
        assertThat(exported("worker1")).containsKeys(0, 1);

        ChangeTable.Upgrade v = fleet.upgrades().start("golden", "worker1", null);
        fleet.upgrades().tick();
        assertThat(fleet.upgrades().cancel("golden", v.id()).error()).contains("cancelled");
        assertThatThrownBy(() -> fleet.upgrades().cancel("golden", v.id())).isInstanceOf(FleetService.Conflict.class);
        clock.at(10_000);
        ChangeTable.Upgrade w = fleet.upgrades().start("golden", "worker1", null);
        fleet.upgrades().tick();
        clock.at(10_000 + (int) Upgrades.BOOT_TIMEOUT.toSeconds() + 1);
        fleet.upgrades().tick();
        assertThat(fleet.upgrades().get("golden", w.id()).error()).hasValueSatisfying(e -> assertThat(e).contains("within 30 min"));
        assertThat(fleet.images().image("golden").versions()).extracting(Images.Version::version).containsExactly("v1");
    }

    @Test
    void aRolloutGoesBatchByBatchAndOneWorkerRollsBackToItsOldRoot() throws Exception {
        boot(A, 0);
        boot(B, 0);
        write(store.open("fleet.worker2.root"), 0x33); // worker2's own writes on its v1 root
        fleet.images().seal("golden", "v2", "test");
        assertThatThrownBy(() -> fleet.rollouts().start("golden@v9", List.of("worker1"), 1, Duration.ofMinutes(10)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> fleet.rollouts().start("golden@v2", List.of("worker1", "worker1"), 1, Duration.ofMinutes(10)))
                .isInstanceOf(IllegalArgumentException.class);
        long id = fleet.rollouts().start("golden@v2", List.of("worker1", "worker2"), 1, Duration.ofMinutes(10)).rollout().id();
        assertThatThrownBy(() -> fleet.rollouts().start("golden@v2", List.of("worker2"), 1, Duration.ofMinutes(10)))
                .as("in a running rollout").isInstanceOf(FleetService.Conflict.class);

        clock.at(100);
        fleet.rollouts().tick();
        assertThat(states(id)).containsExactly("ASSIGNED", "WAITING");
        assertThat(woken).containsExactly(A);
        assertThat(decision.action(new Machine(A, null, false, Optional.empty()))).as("running: reboot").isEqualTo("reboot");
        assertThat(fleet.worker("worker1").image()).as("nothing changes under a running system").isEqualTo("golden@v1");
        boot(A, 110);
        assertThat(fleet.worker("worker1").image()).isEqualTo("golden@v2");
        fleet.rollouts().tick();
        assertThat(states(id)).containsExactly("UP", "ASSIGNED");
        boot(B, 120);
        fleet.rollouts().tick();
        assertThat(states(id)).containsExactly("UP", "UP");
        fleet.rollouts().tick();
        assertThat(fleet.rollouts().get(id).rollout().state()).isEqualTo("DONE");
        assertThat(woken).containsExactly(A, B);

        fleet.rollouts().rollback(id, List.of("worker2"));
        assertThat(states(id)).containsExactly("UP", "ROLLING_BACK");
        boot(B, 200);
        fleet.rollouts().tick();
        assertThat(states(id)).containsExactly("UP", "ROLLED_BACK");
        Worker w2 = fleet.worker("worker2");
        assertThat(w2.image()).isEqualTo("golden@v1");
        assertThat(w2.lun(Worker.Role.ROOT).orElseThrow().volume()).as("its old root, with its writes").isEqualTo("fleet.worker2.root");
        try (Volume root = store.open("fleet.worker2.root")) {
            assertThat(firstByte(root)).isEqualTo(0x33);
        }

        // The whole rollout back: worker1 boots its v1 root again; worker2 is back already.
        fleet.rollouts().rollback(id, List.of());
        assertThat(fleet.rollouts().get(id).rollout().state()).isEqualTo("ROLLED_BACK");
        assertThat(states(id)).containsExactly("ROLLING_BACK", "ROLLED_BACK");
        boot(A, 250);
        fleet.rollouts().tick();
        assertThat(states(id)).containsExactly("ROLLED_BACK", "ROLLED_BACK");
        assertThat(fleet.worker("worker1").image()).isEqualTo("golden@v1");

        // A worker not up in time stops the rollout; later batches are not started.
        long late = fleet.rollouts().start("golden@v1", List.of("worker1", "worker2"), 1, Duration.ofSeconds(60)).rollout().id();
        clock.at(300);
        fleet.rollouts().tick();
        clock.at(361);
        fleet.rollouts().tick();
        assertThat(fleet.rollouts().get(late).rollout().state()).isEqualTo("FAILED");
        assertThat(fleet.rollouts().get(late).rollout().error()).hasValueSatisfying(e -> assertThat(e).contains("worker1"));
        assertThat(states(late)).containsExactly("FAILED", "WAITING");
    }

    List<String> states(long rollout) {
        return fleet.rollouts().get(rollout).workers().stream().map(ChangeTable.Member::state).toList();
    }
}
