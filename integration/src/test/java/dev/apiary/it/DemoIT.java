package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code apiary demo} for real: a worker image built with the recipe (the cached base in
 * /var/cache/apiary-worker makes that seconds after the first build), then {@code apiary demo
 * --image IMG} run as a user runs it, which imports it, starts apiary serve and boots one QEMU
 * machine under UEFI to the agent's up marker. Building the image needs root; nothing else skips.
 */
class DemoIT {
    @TempDir
    Path dir;

    @Test
    void theDemoBootsAThinClientThroughTheWholeChainAndLeavesNothingRunning() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "building a worker image needs root");
        Path recipe = recipe();
        Path img = dir.resolve("worker.img");
        // The agent reports to the boot HTTP port it was built for: one chosen here, not 8080, which
        // other boot tests on this machine may hold.
        int http = Tools.freePort();
        long t0 = System.nanoTime();
        Tools.Result build = Tools.run(Duration.ofMinutes(20), recipe.toString(), "--out", img.toString(),
                "--version", "demo-it", "--poweroff-after-up", "--apiary-url", "http://10.0.2.2:" + http);
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        assertThat(build.exit()).as(build.all()).isZero();

        Path work = dir.resolve("demo");
        t0 = System.nanoTime();
        Tools.Result demo = Tools.run(Duration.ofMinutes(15), Tools.apiary(List.of(), List.of("demo", "--image",
                img.toString(), "--workdir", work.toString(), "--http-port", String.valueOf(http), "--timeout", "600")));
        double demoSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("DemoIT: image build %.1f s, apiary demo %.1f s%n%s%s", buildSeconds, demoSeconds,
                demo.out(), demo.err());
        assertThat(demo.exit()).as(demo.all()).isZero();

        // The console's milestones in the order of the boot chain, and the API's view of the same boot.
        assertThat(demo.out()).containsSubsequence("console  iPXE started (the NIC's boot ROM)",
                "console  iPXE has an address (DHCP from QEMU's user-mode network)",
                "console  iPXE fetched its boot script from Apiary",
                "console  iPXE logged in to the root LUN",
                "console  iPXE fetched the kernel and initrd over HTTP",
                "console  Linux started",
                "console  initramfs: iscsistart logged in from the iBFT",
                "console  root filesystem mounted from the iSCSI LUN",
                "console  systemd started",
                "console  APIARY-DATA mounted new ext4 /dev/sdb at /var/lib/rancher",
                "console  APIARY-WORKER-UP worker1 version=demo-it data=/var/lib/rancher",
                "console  powered off");
        assertThat(demo.out()).containsSubsequence("api      enrolled 52:54:00:de:00:01 as worker1",
                "api      worker1 boot 1: script", "api      worker1 boot 1: iscsi-login",
                "api      worker1 boot 1: os-login", "api      worker1 boot 1: userspace",
                "api      worker1 boot 1: data-mounted");
        assertThat(demo.out()).contains("apiary demo: worker1 is up: Debian booted under UEFI",
                "initiator   iqn.2026-11.dev.apiary:worker1",
                "target      iqn.2026-11.dev.apiary:target.worker1",
                "LUN 0 ROOT  fleet.worker1.root: copy-on-write clone of golden@v1",
                "LUN 1 DATA  fleet.worker1.data: mounted at /var/lib/rancher",
                "image       golden@v1, version demo-it",
                "the agent's userspace report at");
        assertThat(work.resolve("console.log")).content().contains("APIARY-WORKER-UP worker1");

        // Everything the demo started (QEMU, apiary serve) names the workdir on its command line: none is left.
        assertThat(ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(work.toString())).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")))
                .isEmpty();
    }

    /** The image recipe in this repository (the tests run in integration/). */
    static Path recipe() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path r = p.resolve("worker-images/recipes/build-worker-image.sh");
            if (Files.isExecutable(r)) {
                return r;
            }
        }
        throw new AssertionError("no worker-images/recipes/build-worker-image.sh above " + Path.of("").toAbsolutePath());
    }
}
