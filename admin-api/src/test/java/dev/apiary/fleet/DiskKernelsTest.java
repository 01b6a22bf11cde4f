package dev.apiary.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.chap.MasterKey;
import dev.apiary.chap.SecretBox;
import dev.apiary.fleet.store.Inventory;
import dev.apiary.gateway.ExportPublisher;
import dev.apiary.iscsi.portal.TargetServer;
import dev.apiary.lun.file.FileStore;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ServedFile;
import dev.apiary.pxe.ipxe.SanbootTarget;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's script boots the kernel its own root disk names, fetched from that disk: real ext4
 * images made by mkfs.ext4 in an MBR partition, as the worker image recipe lays them out.
 */
class DiskKernelsTest {
    static final String A = "52:54:00:aa:00:01", B = "52:54:00:aa:00:02", C = "52:54:00:aa:00:03";
    static final String CMDLINE = "root=UUID=5e1f0a7e-0b00-4d15-8c1e-55a5b007b001 ro console=ttyS0,115200n8 net.ifnames=0";

    @TempDir
    Path dir;

    final byte[] kernel = random(3 * 1024 * 1024 + 5, 1), initrd = random(5 * 1024 * 1024 + 77, 2);
    FileStore store;
    Inventory inventory;
    TargetServer target;
    ExportPublisher exports;
    FleetService fleet;
    FleetBootDecision decision;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @BeforeEach
    void open() throws Exception {
        store = FileStore.open(dir.resolve("store"));
        store.importRaw("debian", disk("debian", "APPEND " + CMDLINE), (done, total) -> {});
        store.snapshot("debian", "v1");
        store.importRaw("hostile", disk("hostile", "APPEND root=/dev/sda2 ${evil}"), (done, total) -> {});
        store.snapshot("hostile", "v1");
        store.create("blank", 16 << 20);
        store.snapshot("blank", "v1");
        inventory = Inventory.open(dir);
        target = new TargetServer(TargetServer.Options.defaults());
        exports = new ExportPublisher(target, store);
        fleet = new FleetService(inventory, store, new SecretBox(MasterKey.loadOrCreate(dir.resolve("master.key"))),
                exports, new FleetPolicy(FleetPolicy.Enrollment.AUTO, "worker%d", "iqn.2026-11.dev.apiary.test",
                        "debian@v1", 16 << 20), Clock.systemUTC());
        decision = new FleetBootDecision(fleet, w -> List.of(new SanbootTarget.Portal("10.77.0.1", 3260)));
    }

    @AfterEach
    void close() throws Exception {
        exports.close();
        target.close();
        inventory.close();
        store.close();
    }

    Path disk(String name, String append) throws Exception {
        return ExtlinuxDisks.build(dir, name, kernel, initrd, append);
    }

    byte[] fetch(String mac, String name) throws Exception {
        ServedFile f = decision.file(new Machine(mac, null, true, Optional.empty()), name).orElseThrow();
        try (f) {
            ByteBuffer b = ByteBuffer.allocate((int) f.size());
            for (long at = 0; at < f.size(); at += 1 << 18) { // in chunks, as KernelRoutes reads
                f.read(at, b.slice((int) at, (int) Math.min(1 << 18, f.size() - at)));
            }
            return b.array();
        }
    }

    String script(String mac) {
        return decision.script(new Machine(mac, null, true, Optional.empty())).orElseThrow();
    }

    @Test
    void aWorkerBootsTheKernelItsRootNamesFetchedFromItsRoot() throws Exception {
        String s = script(A);
        assertThat(s).contains("sanhook iscsi:10.77.0.1::3260:0:iqn.2026-11.dev.apiary.test:target.worker1 || goto failed\n",
                "kernel /boot/52-54-00-aa-00-01/kernel initrd=initrd.img " + CMDLINE + " || goto failed\n",
                "initrd --name initrd.img /boot/52-54-00-aa-00-01/initrd || goto failed\n").doesNotContain("sanboot");
        assertThat(fetch(A, "kernel")).isEqualTo(kernel);
        assertThat(fetch(A, "initrd")).isEqualTo(initrd);
        assertThat(decision.file(new Machine(B, null, true, Optional.empty()), "kernel")).as("no such worker").isEmpty();
    }

    @Test
    void aDiskWithoutAKernelOrWithACommandLineIpxeCannotCarryBootsItsOwnLoader() throws Exception {
        fleet.enroll(A);
        fleet.setImage("blank@v1");
        assertThat(script(B)).contains("sanboot iscsi:").doesNotContain("kernel ");
        assertThat(decision.file(new Machine(B, null, true, Optional.empty()), "kernel")).isEmpty();
        fleet.setImage("hostile@v1");
        assertThat(script(C)).contains("sanboot iscsi:").doesNotContain("${evil}");
    }
}
