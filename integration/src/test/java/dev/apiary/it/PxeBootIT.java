package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real firmware network-boots from {@code apiary pxe serve} on a boot network the test builds
 * ({@link BootNetwork}): QEMU's iPXE option ROM under SeaBIOS (a BIOS machine) and OVMF's own PXE
 * client (a UEFI machine, the Wyse 3040's case). Each gets an address, the UEFI one fetches
 * snponly.efi by TFTP, both fetch their script over HTTP, and the script prints a marker on the
 * serial console with the address the machine holds. Software emulation (-accel tcg): this
 * machine's KVM cannot run either firmware (boot-chain.md §6).
 */
class PxeBootIT {
    static final String BIOS_MAC = "52:54:00:a7:00:01", UEFI_MAC = "52:54:00:a7:00:02", STRANGER_MAC = "52:54:00:a7:00:03";
    /** The whole marker line: the serial console delivers it a few characters at a time. */
    static final Pattern MARKER = Pattern.compile("APIARY-PXE-OK mac=(\\S+) ip=(\\S+) platform=(\\S+)\\s");
    static final String ECHO = "echo APIARY-PXE-OK mac=${net0/mac} ip=${net0/ip} platform=${platform}\n";
    static final long BOOT_SECONDS = 240;

    @TempDir
    Path dir;

    @BeforeAll
    static void peers() {
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        for (String f : List.of("/usr/lib/ipxe/snponly.efi", "/usr/lib/ipxe/undionly.kpxe",
                "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/sbin/dnsmasq")) {
            assertThat(Path.of(f)).as("installed by scripts/install-test-deps.sh").exists();
        }
    }

    /**
     * The home network: the router's DHCP server (dnsmasq, DHCP and IPv6 RA only, no PXE options)
     * hands out addresses; Apiary's proxyDHCP only says what to boot. A machine Apiary has no
     * script for still gets its address from the router, and no boot answer from Apiary.
     */
    @Test
    void proxyDhcpBesideAHomeRouter() throws Exception {
        scripts(List.of(BIOS_MAC, UEFI_MAC));
        try (BootNetwork net = BootNetwork.create(true)) {
            net.start(true, dir.resolve("dnsmasq.log"), List.of("dnsmasq", "--keep-in-foreground",
                    "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root", "--interface=r0",
                    "--bind-interfaces", "--dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,1h",
                    "--dhcp-option=option:router," + BootNetwork.ROUTER, "--dhcp-leasefile=" + dir.resolve("router.leases"),
                    "--pid-file=" + dir.resolve("dnsmasq.pid"), "--log-dhcp", "--log-facility=-",
                    "--enable-ra", "--dhcp-range=::,constructor:r0,ra-only"));
            Path apiaryLog = startApiary(net, """
                    pxe:
                      dhcp: proxy
                      address: 10.77.0.1
                      interface: br0
                      scripts: scripts
                    """);
            Vm bios = Vm.bios(net, dir, BIOS_MAC);
            Vm uefi = Vm.uefi(net, dir, UEFI_MAC);
            Vm stranger = Vm.bios(net, dir, STRANGER_MAC);

            assertBooted(bios, "pcbios", "10.77.0.", 50, 99);
            assertBooted(uefi, "efi", "10.77.0.", 50, 99);
            // The stranger: an address from the router, then nothing to boot (iPXE gives up).
            String s = stranger.awaitSerial("No more network devices");
            assertThat(s).contains("net0: 10.77.0.").doesNotContain("APIARY-PXE-OK").doesNotContain("Next server: 10.77.0.1");

            String log = Files.readString(apiaryLog);
            assertThat(log).contains("[tftp] sent snponly.efi to /" + uefi.ip)
                    .contains("proxyDHCP: offer " + UEFI_MAC + " (EFI_X64) -> snponly.efi")
                    .contains("[http] served the boot script of " + BIOS_MAC)
                    .contains("[http] served the boot script of " + UEFI_MAC)
                    .doesNotContain("offer " + STRANGER_MAC);
            assertThat(Files.readString(dir.resolve("router.leases"))).contains(BIOS_MAC, UEFI_MAC, STRANGER_MAC);
        }
    }

    /**
     * An isolated boot network: Apiary is the only DHCP server. Addresses come from its pool and
     * are kept in its lease file; there is no IPv6 router, so iPXE waits out its IPv6 timeout.
     * The BIOS machine's script goes on to sanboot an Apiary iSCSI export with mutual CHAP, and
     * the disk's boot sector prints its own marker: the whole chain, DHCP to the LUN's first code.
     */
    @Test
    void fullDhcpOnAnIsolatedBootNetwork() throws Exception {
        scripts(List.of(UEFI_MAC));
        Path disk = dir.resolve("disk.img");
        Files.write(disk, QemuBootIT.bootSector());
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(16 << 20); // iPXE probes past the first sectors (an ISO9660 descriptor at 32 KiB)
        }
        String target = "iqn.2026-11.dev.apiary.test:pxe-disk";
        try (BootNetwork net = BootNetwork.create(false)) {
            Path exportLog = startApiary(net, "export.log", "export", "--portal", BootNetwork.APIARY + ":3260",
                    "--iqn", target, "--chap", "worker1:workersecret12", "--mutual", "apiary:targetsecret12",
                    disk.toString());
            // The BIOS machine's entry in the config file: a sanboot script rendered by Apiary.
            Path apiaryLog = startApiary(net, """
                    pxe:
                      dhcp: full
                      address: 10.77.0.1
                      interface: br0
                      pool: 10.77.0.100-10.77.0.199
                      lease-file: leases
                      scripts: scripts
                      machines:
                        %s:
                          sanboot:
                            initiator-iqn: iqn.2026-11.dev.apiary.test:worker1
                            target-iqn: %s
                            portals: [10.77.0.1:3260]
                            chap: worker1:workersecret12
                            mutual: apiary:targetsecret12
                        default:
                          wait: not approved yet
                          retry: 2s
                    """.formatted(BIOS_MAC, target));
            Vm bios = Vm.bios(net, dir, BIOS_MAC);
            Vm uefi = Vm.uefi(net, dir, UEFI_MAC);
            Vm pending = Vm.bios(net, dir, STRANGER_MAC);
            assertBooted(uefi, "efi", "10.77.0.", 100, 199);
            String serial = bios.awaitSerial(QemuBootIT.MARKER); // the boot sector ran from the iSCSI LUN
            assertThat(serial).contains("Apiary: booting iqn.2026-11.dev.apiary.test:worker1");
            Matcher ip = Pattern.compile("net0: (10\\.77\\.0\\.1\\d\\d)/").matcher(serial);
            assertThat(ip.find()).as(serial).isTrue();
            bios.ip = ip.group(1);
            assertThat(Files.readString(exportLog)).contains("iqn.2026-11.dev.apiary.test:worker1 logged in to " + target
                    + " from /" + bios.ip);

            assertThat(Files.readString(apiaryLog)).contains("[tftp] sent snponly.efi to /" + uefi.ip)
                    .contains("DHCP: ack " + bios.ip + " for " + BIOS_MAC)
                    .contains("DHCP: ack " + uefi.ip + " for " + UEFI_MAC)
                    .doesNotContain("workersecret12", "targetsecret12");
            String leases = Files.readString(dir.resolve("leases"));
            assertThat(leases).contains(BIOS_MAC + " " + bios.ip, UEFI_MAC + " " + uefi.ip);

            // A machine nobody approved yet waits and asks again, over and over, for its script.
            String waiting = pending.awaitSerial("Apiary: not approved yet");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (waiting.split("Apiary: not approved yet", -1).length - 1 < 3 && System.nanoTime() < deadline) {
                Thread.sleep(500);
                waiting = Files.readString(pending.serial, StandardCharsets.ISO_8859_1);
            }
            assertThat(waiting.split("Apiary: not approved yet", -1).length - 1).as(waiting).isGreaterThanOrEqualTo(3);
            String served = Files.readString(apiaryLog);
            assertThat(served.split("served the boot script of " + STRANGER_MAC, -1).length - 1)
                    .as("fetched again each round, so an approval is seen: %s", served).isGreaterThanOrEqualTo(3);

            // Another host on the boot network that knows the worker's MAC gets no secrets.
            Tools.Result curl = net.run("curl", "-s", "--max-time", "10", "-w", "\n%{http_code}",
                    "http://10.77.0.1:8080/boot/" + BIOS_MAC);
            assertThat(curl.out()).endsWith("\n403").doesNotContain("workersecret12");
        }
    }

    /** One script per known MAC, echoing the marker; no default.ipxe, so other machines get no answer. */
    private void scripts(List<String> macs) throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("scripts"));
        for (String mac : macs) {
            Files.writeString(scripts.resolve(mac.replace(':', '-') + ".ipxe"), "#!ipxe\n" + ECHO);
        }
    }

    /** {@code apiary pxe serve} inside the boot namespace, the way a user starts it; waits for "ready". */
    private Path startApiary(BootNetwork net, String yaml) throws Exception {
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, yaml);
        return startApiary(net, "apiary.log", "pxe", "serve", "--config", config.toString());
    }

    /** {@code apiary ARGS} inside the boot namespace; waits for its "ready" line. */
    private Path startApiary(BootNetwork net, String logName, String... args) throws Exception {
        Path log = dir.resolve(logName);
        Process p = net.start(false, log, Tools.apiary(List.of(), List.of(args)));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.readString(log).contains("ready ")) {
            assertThat(p.isAlive()).as("apiary %s exited: %s", args[0], Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as("apiary %s not ready in 60 s", args[0]).isLessThan(deadline);
            Thread.sleep(100);
        }
        return log;
    }

    private static void assertBooted(Vm vm, String platform, String prefix, int first, int last) throws Exception {
        String serial = vm.awaitSerial(MARKER);
        Matcher m = MARKER.matcher(serial);
        assertThat(m.find()).as(serial).isTrue();
        assertThat(m.group(1)).isEqualTo(vm.mac);
        assertThat(m.group(3)).isEqualTo(platform);
        vm.ip = m.group(2);
        assertThat(vm.ip).startsWith(prefix);
        assertThat(Integer.parseInt(vm.ip.substring(prefix.length()))).as("address %s", vm.ip).isBetween(first, last);
    }

    /** One QEMU machine on its own tap, its serial console in a file. */
    static final class Vm {
        final String mac;
        final Path serial;
        final Path log;
        final Process process;
        String ip;

        private Vm(String mac, Path serial, Path log, Process process) {
            this.mac = mac;
            this.serial = serial;
            this.log = log;
            this.process = process;
        }

        static List<String> common(Path serial, String tap) {
            return List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nodefaults", "-display", "none",
                    "-no-reboot", "-serial", "file:" + serial, "-netdev",
                    "tap,id=n0,ifname=" + tap + ",script=no,downscript=no");
        }

        /** SeaBIOS with QEMU's iPXE ROM on the NIC; SeaBIOS's serial console shows what iPXE prints. */
        static Vm bios(BootNetwork net, Path dir, String mac) throws Exception {
            String name = mac.substring(mac.length() - 2);
            Path serial = dir.resolve("serial-" + name + ".log");
            Path port = dir.resolve("sercon-port");
            Files.write(port, new byte[] {(byte) 0xf8, 0x03}); // COM1, 0x3f8, little-endian
            List<String> cmd = new ArrayList<>(common(serial, net.tap()));
            cmd.addAll(List.of("-fw_cfg", "name=etc/sercon-port,file=" + port,
                    "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",bootindex=1"));
            return start(net, dir, mac, serial, cmd);
        }

        /** OVMF with the NIC's option ROM removed, so the firmware's own PXE client starts the chain. */
        static Vm uefi(BootNetwork net, Path dir, String mac) throws Exception {
            String name = mac.substring(mac.length() - 2);
            Path serial = dir.resolve("serial-" + name + ".log");
            Path vars = dir.resolve("vars-" + name + ".fd");
            Files.copy(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), vars);
            List<String> cmd = new ArrayList<>(common(serial, net.tap()));
            cmd.addAll(List.of("-machine", "q35",
                    "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                    "-drive", "if=pflash,format=raw,file=" + vars,
                    "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",romfile=,bootindex=1"));
            return start(net, dir, mac, serial, cmd);
        }

        private static Vm start(BootNetwork net, Path dir, String mac, Path serial, List<String> cmd) throws Exception {
            Path log = dir.resolve("qemu-" + mac.substring(mac.length() - 2) + ".log");
            return new Vm(mac, serial, log, net.start(false, log, cmd));
        }

        /** The serial console once it shows {@code text}; fails with the console and QEMU's output otherwise. */
        String awaitSerial(String text) throws Exception {
            return awaitSerial(Pattern.compile(Pattern.quote(text)));
        }

        String awaitSerial(Pattern text) throws Exception {
            long deadline = System.nanoTime() + BOOT_SECONDS * 1_000_000_000L;
            while (true) {
                String s = Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "";
                if (text.matcher(s).find()) {
                    return s;
                }
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError(mac + ": no \"" + text + "\" on the serial console within "
                            + BOOT_SECONDS + " s.\nserial:\n" + s + "\nqemu:\n" + Files.readString(log));
                }
                Thread.sleep(250);
            }
        }
    }
}
