package dev.apiary.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.fleet.MovingClock;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.gateway.GatewayRegistry;
import dev.apiary.pxe.ipxe.SanbootTarget.Portal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A boot script names every portal: its worker's owner gateway first when it is up, then the live gateways, the configured portals, the down gateways. */
class BootPortalsTest {
    @TempDir
    Path dir;

    @Test
    void everyPortalTheLiveOwnerFirstThenLiveGatewaysThenConfiguredThenDown() throws Exception {
        Path f = dir.resolve("apiary.yaml");
        Files.writeString(f, "target: {portals: [\"10.0.0.1:3260\", \"10.0.0.9:3260\"]}\n");
        ServeSettings settings = ServeSettings.from(ConfigFile.load(f, ServeSettings.SECTIONS));
        MovingClock clock = new MovingClock();
        try (Inventory inventory = Inventory.open(dir)) {
            GatewayRegistry gateways = new GatewayRegistry(inventory, clock, Duration.ofSeconds(5), true);
            assertThat(ApiaryServer.bootPortals(settings, gateways, null))
                    .containsExactly(new Portal("10.0.0.1", 3260), new Portal("10.0.0.9", 3260));
            gateways.heard("gw1", "10.0.0.1:3260", null, Set.of());
            gateways.heard("gw2", "10.0.0.2:3260", null, Set.of());
            assertThat(ApiaryServer.bootPortals(settings, gateways, null)).containsExactly(new Portal("10.0.0.1", 3260),
                    new Portal("10.0.0.2", 3260), new Portal("10.0.0.9", 3260));
            // A worker whose root gw2 owns: gw2's portal first (iPXE and the initramfs try every one).
            gateways.config(java.util.List.of(new dev.apiary.gateway.ExportConfig.Target("iqn.2026-11.x:w1",
                    "iqn.2026-11.x:w1.init", "u", "secret-secret", "t", "mutual-mutual", java.util.List.of())));
            inventory.transaction(c -> {
                dev.apiary.fleet.store.GatewayTable.setOwner(c, "w1.root", "gw2");
                return null;
            });
            assertThat(ApiaryServer.bootPortals(settings, gateways, "w1.root")).containsExactly(
                    new Portal("10.0.0.2", 3260), new Portal("10.0.0.1", 3260), new Portal("10.0.0.9", 3260));
            for (int t = 1; t <= 10; t++) { // gw2 beats every second, gw1 is silent for 10 s: down
                clock.at(t);
                gateways.heard("gw2", "10.0.0.2:3260", null, Set.of());
            }
            assertThat(ApiaryServer.bootPortals(settings, gateways, null)).containsExactly(new Portal("10.0.0.2", 3260),
                    new Portal("10.0.0.1", 3260), new Portal("10.0.0.9", 3260));
            // The owner down: the live gateway first, the owner still named, after it.
            inventory.transaction(c -> {
                dev.apiary.fleet.store.GatewayTable.setOwner(c, "w1.root", "gw1");
                return null;
            });
            assertThat(ApiaryServer.bootPortals(settings, gateways, "w1.root")).containsExactly(
                    new Portal("10.0.0.2", 3260), new Portal("10.0.0.1", 3260), new Portal("10.0.0.9", 3260));
        }
    }
}
