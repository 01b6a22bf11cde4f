package dev.apiary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.fleet.MovingClock;
import dev.apiary.fleet.store.Inventory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owners per LUN: fewest LUNs wins, a silent gateway's LUNs move, a gateway's own claim sticks. */
class GatewayRegistryTest {
    @TempDir
    Path dir;

    Inventory inventory;
    MovingClock clock = new MovingClock();
    GatewayRegistry registry;

    @BeforeEach
    void open() {
        inventory = Inventory.open(dir);
        registry = new GatewayRegistry(inventory, clock, Duration.ofSeconds(5), true);
    }

    @AfterEach
    void close() {
        inventory.close();
    }

    static List<ExportConfig.Target> workers(int n) {
        List<ExportConfig.Target> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            String iqn = "iqn.2026-11.dev.apiary:worker" + i;
            out.add(new ExportConfig.Target(iqn, iqn + ".init", "worker" + i, "secret-of-worker-" + i, "target" + i,
                    "mutual-of-worker-" + i, List.of(new ExportConfig.Lun(0, "w" + i + ".root", null),
                            new ExportConfig.Lun(1, "w" + i + ".data", null))));
        }
        return out;
    }

    static Map<String, String> owners(ExportConfig c) {
        Map<String, String> m = new HashMap<>();
        c.targets().forEach(t -> t.luns().forEach(l -> m.put(l.volume(), l.owner())));
        return m;
    }

    static Map<String, Long> load(ExportConfig c) {
        Map<String, Long> m = new HashMap<>();
        owners(c).values().forEach(o -> m.merge(o, 1L, Long::sum));
        return m;
    }

    @Test
    void gatewaysKeepTheirPortGroupAndShareTheLunsEvenly() {
        assertThat(registry.heard("gw1", "10.0.0.1:3260", null, Set.of())).isEqualTo(1);
        assertThat(registry.heard("gw2", "10.0.0.2:3260", "10.0.0.2:0/1234", Set.of())).isEqualTo(2);
        assertThat(registry.heard("gw1", "10.0.0.1:3260", null, Set.of())).isEqualTo(1);
        ExportConfig c = registry.config(workers(3));
        // A worker's two LUNs share their owner; workers go to the gateway with the fewest LUNs.
        assertThat(load(c)).containsOnly(Map.entry("gw1", 4L), Map.entry("gw2", 2L));
        c.targets().forEach(t -> assertThat(t.luns()).extracting(ExportConfig.Lun::owner).containsOnly(
                t.luns().get(0).owner()));
        assertThat(c.gateways()).extracting(ExportConfig.Gateway::name, ExportConfig.Gateway::group,
                ExportConfig.Gateway::up).containsExactly(
                        org.assertj.core.groups.Tuple.tuple("gw1", 1, true),
                        org.assertj.core.groups.Tuple.tuple("gw2", 2, true));
        // A third gateway takes new LUNs until it has as many; nothing moves that has a live owner.
        registry.heard("gw3", "10.0.0.3:3260", null, Set.of());
        ExportConfig d = registry.config(workers(6));
        Map<String, String> before = owners(c), after = owners(d);
        before.forEach((v, o) -> assertThat(after.get(v)).as(v).isEqualTo(o));
        assertThat(load(d)).containsOnly(Map.entry("gw1", 4L), Map.entry("gw2", 4L), Map.entry("gw3", 4L));
        assertThat(registry.config(workers(6))).isEqualTo(d);
        assertThat(registry.list()).extracting(GatewayRegistry.View::name).containsExactly("gw1", "gw2", "gw3");
    }

    @Test
    void aSilentGatewaysLunsMoveToTheLiveOnesAndItIsShownDown() {
        registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        registry.heard("gw2", "10.0.0.2:3260", null, Set.of());
        ExportConfig c = registry.config(workers(4));
        for (int t = 1; t <= 4; t++) { // gw1 (the API node's own) beats every second; gw2 is silent
            clock.at(t);
            registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        }
        assertThat(registry.config(workers(4))).isEqualTo(c); // 4 s of silence: still up
        for (int t = 5; t <= 6; t++) {
            clock.at(t);
            registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        }
        ExportConfig d = registry.config(workers(4));
        assertThat(load(d)).containsOnly(Map.entry("gw1", 8L));
        assertThat(d.gateway("gw2")).hasValueSatisfying(g -> assertThat(g.up()).isFalse());
        assertThat(registry.list()).filteredOn(v -> v.name().equals("gw2")).singleElement()
                .satisfies(v -> assertThat(v.up()).isFalse()).satisfies(v -> assertThat(v.owns()).isEmpty());
        // Back: it gets new LUNs, and nothing moves back by itself (no ping-pong under a flapping link).
        registry.heard("gw2", "10.0.0.2:3260", null, Set.of());
        ExportConfig e = registry.config(workers(5));
        assertThat(owners(e)).containsEntry("w5.root", "gw2").containsEntry("w5.data", "gw2");
        assertThat(load(e)).containsOnly(Map.entry("gw1", 8L), Map.entry("gw2", 2L));
    }

    @Test
    void afterTheApiNodeWasAwayNobodysSilenceCountsUntilItHasListenedForDownAfter() {
        registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        registry.heard("gw2", "10.0.0.2:3260", null, Set.of());
        ExportConfig c = registry.config(workers(2));
        clock.at(60); // the API node was frozen for a minute; gw2 beats again a little after it wakes
        registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        assertThat(registry.config(workers(2))).isEqualTo(c);
        assertThat(registry.list()).allSatisfy(v -> assertThat(v.up()).isTrue());
        for (int t = 61; t <= 66; t++) { // gw2 stays silent while the API node listens: now it is down
            clock.at(t);
            registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        }
        assertThat(load(registry.config(workers(2)))).containsOnly(Map.entry("gw1", 4L));
    }

    @Test
    void aGatewaysOwnClaimIsAdoptedAndLunsThatAreGoneAreForgotten() {
        registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        registry.heard("gw2", "10.0.0.2:3260", null, Set.of());
        Map<String, String> o = owners(registry.config(workers(2)));
        String volume = o.entrySet().stream().filter(e -> e.getValue().equals("gw1")).findFirst().orElseThrow().getKey();
        registry.heard("gw2", "10.0.0.2:3260", null, Set.of(volume, "not-exported"));
        Map<String, String> p = owners(registry.config(workers(2)));
        // The rest of its worker's LUNs follow the claim: one path, one owner.
        assertThat(p).containsEntry(volume, "gw2").containsEntry(volume.replace(".root", ".x").replace(".data",
                ".root").replace(".x", ".data"), "gw2").doesNotContainKey("not-exported");
        assertThat(owners(registry.config(workers(1)))).hasSize(2);
        assertThat(registry.list().stream().mapToInt(v -> v.owns().size()).sum()).isEqualTo(2);
    }

    @Test
    void removedGatewaysLeaveAndTheirLunsMove() {
        registry.heard("gw1", "10.0.0.1:3260", null, Set.of());
        registry.heard("gw2", "10.0.0.2:3260", null, Set.of());
        registry.config(workers(2));
        assertThat(registry.remove("gw2")).isTrue();
        assertThat(registry.remove("gw2")).isFalse();
        assertThat(load(registry.config(workers(2)))).containsOnly(Map.entry("gw1", 4L));
        assertThat(registry.heard("gw3", "10.0.0.3:3260", null, Set.of())).isEqualTo(2);
    }
}
