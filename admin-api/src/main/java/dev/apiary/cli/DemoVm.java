package dev.apiary.cli;

import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The demo's one virtual thin client: QEMU under TCG (this machine's KVM cannot run iPXE or OVMF,
 * DESIGN.md), a virtio NIC on user-mode networking (slirp) and nothing else, so the only network it
 * reaches is this host's loopback, as 10.0.2.2. Its serial console is read line by line as it
 * comes, stamped with the seconds since power-on into {@code console.log}, and fed to a
 * {@link BootConsole}; the milestones it reaches queue up in {@link #hits}.
 */
final class DemoVm {
    static final String OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    static final String OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    final BootConsole console = new BootConsole();
    final BlockingQueue<BootConsole.Hit> hits = new LinkedBlockingQueue<>();
    final Instant poweredOn;
    private final long startNanos;
    private final Process process;
    private final Thread reader;

    private DemoVm(Process process, long startNanos, Instant poweredOn, Path log) throws IOException {
        this.process = process;
        this.startNanos = startNanos;
        this.poweredOn = poweredOn;
        BufferedWriter out = Files.newBufferedWriter(log);
        reader = Thread.ofPlatform().name("demo-console").daemon().start(() -> read(process.getInputStream(), out));
    }

    /**
     * The QEMU command line. The iPXE in QEMU's NIC ROM does DHCP with slirp, whose TFTP hands it
     * {@code tftp/boot.ipxe}, which chains Apiary's boot script; from there on it is Apiary's boot
     * path. -no-reboot: a power-off or a panic ends QEMU instead of booting again.
     */
    static List<String> command(Path work, boolean uefi, String mac) {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64",
                "-smp", "1", "-m", "1024", "-display", "none", "-monitor", "none", "-no-reboot", "-serial", "stdio"));
        if (uefi) {
            cmd.addAll(List.of("-machine", "q35",
                    "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,file=" + work.resolve("vars.fd")));
        } else {
            // SeaBIOS shows its console (iPXE, extlinux) on COM1 only when told the port (0x3f8, little-endian).
            cmd.addAll(List.of("-fw_cfg", "name=etc/sercon-port,file=" + work.resolve("sercon-port")));
        }
        // ipv6=on: slirp's router advertisements spare stock iPXE a ~16 s wait for IPv6 (DESIGN.md).
        cmd.addAll(List.of("-netdev", "user,id=n0,ipv4=on,ipv6=on,tftp=" + work.resolve("tftp") + ",bootfile=boot.ipxe",
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",bootindex=1"));
        return cmd;
    }

    /** What is missing on this machine to boot the VM, as an apt-get line, or null. */
    static String missingTools(boolean uefi) {
        List<String> packages = new ArrayList<>();
        if (Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .noneMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, "qemu-system-x86_64")))) {
            packages.add("qemu-system-x86");
        }
        // The virtio NIC's iPXE ROM: Debian's QEMU finds it in ipxe-qemu's directory.
        if (!Files.exists(Path.of("/usr/lib/ipxe/qemu/efi-virtio.rom"))
                && !Files.exists(Path.of("/usr/share/qemu/efi-virtio.rom"))) {
            packages.add("ipxe-qemu");
        }
        if (uefi && !(Files.isReadable(Path.of(OVMF_CODE)) && Files.isReadable(Path.of(OVMF_VARS)))) {
            packages.add("ovmf");
        }
        return packages.isEmpty() ? null : "missing what QEMU needs to boot the thin client: apt-get install -y "
                + String.join(" ", packages);
    }

    /** Writes what the firmware needs beside the command line, then powers on. */
    static DemoVm start(Path work, boolean uefi, String mac, String bootScript) throws IOException {
        Files.createDirectories(work.resolve("tftp"));
        Files.writeString(work.resolve("tftp/boot.ipxe"), bootScript);
        if (uefi) {
            // The firmware writes its boot entries into its variable store: a copy of its own.
            Files.copy(Path.of(OVMF_VARS), work.resolve("vars.fd"), StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.write(work.resolve("sercon-port"), new byte[] {(byte) 0xf8, 0x03});
        }
        ProcessBuilder pb = new ProcessBuilder(command(work, uefi, mac))
                .redirectInput(new File("/dev/null")) // never the terminal: QEMU would put it into raw mode
                .redirectError(work.resolve("qemu.err").toFile());
        long t0 = System.nanoTime();
        Instant at = Instant.now();
        return new DemoVm(pb.start(), t0, at, work.resolve("console.log"));
    }

    private void read(InputStream in, BufferedWriter log) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (in; log) {
            int b;
            while ((b = in.read()) >= 0) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                double t = seconds();
                String text = line.toString(StandardCharsets.UTF_8);
                line.reset();
                log.write(String.format("%7.2f %s%n", t, BootConsole.clean(text)));
                log.flush();
                hits.addAll(console.feed(t, text));
            }
        } catch (IOException e) {
            // QEMU is gone; the transcript so far is on disk
        }
    }

    /** Seconds since power-on. */
    double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Waits for QEMU to end and its console to be read to the end; false if it is still running. */
    boolean awaitExit(long millis) throws InterruptedException {
        if (!process.waitFor(millis, TimeUnit.MILLISECONDS)) {
            return false;
        }
        reader.join(5000);
        return true;
    }

    /** Stops QEMU by its PID: SIGTERM (QEMU exits at once, like pulling the plug), then SIGKILL. */
    void stop() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        reader.join(5000);
    }
}
