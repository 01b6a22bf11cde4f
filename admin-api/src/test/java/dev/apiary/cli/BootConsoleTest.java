package dev.apiary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.cli.BootConsole.Milestone;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Milestones from a worker's serial console: lines of a real BIOS boot through apiary demo, with noise between. */
class BootConsoleTest {
    /** Seconds since power-on and the line as the serial port sent it (carriage returns, escapes and all). */
    static final String TRANSCRIPT = """
            0.11|iPXE (http://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+3EFCF0F0+3EF0F0F0 CA00\r
            0.22|\u001b[0miPXE 1.0.0+git-20190125.36a4c85-5.1 -- Open Source Network Boot Firmware -- http://ipxe.org\r
            5.41|Configuring (net0 52:54:00:de:00:01)...... ok\r
            5.51|tftp://10.0.2.2/boot.ipxe... ok\r
            5.58|http://10.0.2.2:8080/boot/52%3A54%3A00%3Ade%3A00%3A01... ok\r
            5.60|Apiary: booting iqn.2026-11.dev.apiary:worker1\r
            5.77|Registered SAN device 0x80\r
            6.90|/boot/52-54-00-de-00-01/kernel... ok\r
            8.02|/boot/52-54-00-de-00-01/initrd... 87%     ok\r
            11.52|Probing EDD (edd=off to disable)... oc[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)\r
            21.26|iscsistart: Connection1:0 to [target: iqn.2026-11.dev.apiary:target.worker1, portal: 10.0.2.2,36325] through [iface: default] is operational now\r
            22.52|[   11.305280] EXT4-fs (sda2): mounted filesystem with ordered data mode. Quota mode: none.\r
            23.61|\u001b[?25l\u001b[=3hWelcome to \u001b[1mDebian GNU/Linux 12 (bookworm)\u001b[0m!\r
            32.91|APIARY-DATA formatting /dev/sdb (LUN 1, blank) as ext4\r
            35.73|APIARY-DATA formatted ext4 /dev/sdb at /var/lib/rancher uuid=0a6e825d-e3fd-4830-a55d-3d5020a997d7\r
            42.28|APIARY-AGENT report userspace to http://10.0.2.2:8080: 204\r
            42.62|APIARY-WORKER-UP worker1 version=demo-1 data=/var/lib/rancher uptime=31.30\r
            42.62|APIARY-POWEROFF (/etc/apiary/poweroff-after-up)\r
            46.49|[   35.277733] reboot: Power down\r
            """;

    static List<BootConsole.Hit> feed(BootConsole console, String transcript) {
        List<BootConsole.Hit> hits = new ArrayList<>();
        transcript.lines().forEach(l -> {
            int bar = l.indexOf('|');
            hits.addAll(console.feed(Double.parseDouble(l.substring(0, bar)), l.substring(bar + 1)));
        });
        return hits;
    }

    @Test
    void aGoodBootReachesEveryMilestoneInOrder() {
        BootConsole console = new BootConsole();
        List<BootConsole.Hit> hits = feed(console, TRANSCRIPT);
        assertThat(hits).extracting(BootConsole.Hit::milestone).containsExactly(Milestone.values());
        assertThat(hits).extracting(BootConsole.Hit::seconds)
                .containsExactly(0.22, 5.41, 5.58, 5.77, 8.02, 11.52, 21.26, 22.52, 23.61, 35.73, 42.62, 46.49);
        assertThat(console.reached(Milestone.SYSTEMD).orElseThrow().line())
                .isEqualTo("Welcome to Debian GNU/Linux 12 (bookworm)!");
        // "formatting" is on the way; the milestone is the line that says what was done.
        assertThat(console.reached(Milestone.DATA).orElseThrow().line()).startsWith("APIARY-DATA formatted ext4 /dev/sdb");
        assertThat(console.up()).contains(new BootConsole.Up("worker1", "demo-1", "/var/lib/rancher"));
        assertThat(console.poweroffAnnounced()).isTrue();
        assertThat(console.fatal()).isEmpty();
        assertThat(console.tail(2)).containsExactly("APIARY-POWEROFF (/etc/apiary/poweroff-after-up)",
                "[   35.277733] reboot: Power down");
    }

    @Test
    void aMilestoneCountsOnceAndAnImageWithoutPoweroffSaysSo() {
        BootConsole console = new BootConsole();
        assertThat(console.feed(1, "Booting from SAN device 0x80")).hasSize(1);
        assertThat(console.feed(2, "Booting from SAN device 0x80")).isEmpty();
        assertThat(console.reached(Milestone.SANBOOT).orElseThrow().seconds()).isEqualTo(1.0);
        console.feed(40, "APIARY-WORKER-UP worker7 version=v1 data=none uptime=30.01");
        assertThat(console.up()).contains(new BootConsole.Up("worker7", "v1", "none"));
        assertThat(console.poweroffAnnounced()).isFalse();
    }

    @Test
    void theImagesOwnLoginAndAMultipathRootAreMilestonesAndAFailedLoginIsNot() {
        BootConsole console = new BootConsole();
        assertThat(console.feed(1, "APIARY-ISCSI 2 portals, 0 logged in: 10.0.0.11:3260 failed (x), 10.0.0.12:3260 "
                + "no login within 30s")).isEmpty();
        assertThat(console.feed(2, "APIARY-ISCSI 2 portals, 1 logged in: 10.0.0.11:3260 ok, 10.0.0.12:3260 no login "
                + "within 15s")).extracting(BootConsole.Hit::milestone).containsExactly(Milestone.LOGIN);
        assertThat(console.feed(3, "[   20.1] EXT4-fs (dm-2): mounted filesystem with ordered data mode."))
                .extracting(BootConsole.Hit::milestone).containsExactly(Milestone.ROOT);
        BootConsole one = new BootConsole();
        assertThat(one.feed(1, "APIARY-ISCSI 1 portal, 1 logged in: 10.0.2.2:3260 ok"))
                .extracting(BootConsole.Hit::milestone).containsExactly(Milestone.LOGIN);
    }

    @Test
    void theLinesThatEndABootAreRecognized() {
        for (String line : List.of("Could not open SAN device: Input/output error (http://ipxe.org/1d0c6539)",
                "[   12.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
                "Gave up waiting for root file system device.",
                "http://10.0.2.2:8080/boot/52%3A54... No such device (http://ipxe.org/2c0d6003)")) {
            BootConsole console = new BootConsole();
            console.feed(1, "iPXE 1.0.0 -- Open Source Network Boot Firmware -- http://ipxe.org");
            assertThat(console.fatal()).isEmpty();
            console.feed(2, line + "\r");
            assertThat(console.fatal()).as(line).contains(line);
        }
    }

    @Test
    void cleaningRemovesWhatATerminalWouldNotShow() {
        assertThat(BootConsole.clean("\u001b[=3h\u001b[2J\u001b[01;01H\u001b[?25lWelcome\u001b(B\r")).isEqualTo("Welcome");
    }

    @Test
    void onlyTheLastFortyLinesAreKept() {
        BootConsole console = new BootConsole();
        for (int i = 0; i < 100; i++) {
            console.feed(i, "line " + i);
        }
        assertThat(console.tail(100)).hasSize(40).startsWith("line 60").endsWith("line 99");
    }
}
