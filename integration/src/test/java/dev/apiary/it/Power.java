package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The power buttons of the story tests' thin clients: UEFI virtual machines (QEMU, OVMF, the
 * firmware's own PXE client on a virtio NIC without option ROM, 1 GiB, -accel tcg), one tap each
 * on the boot network. A machine is switched on by the test ({@link #on}) or by a Wake-on-LAN
 * magic packet for its MAC heard on the boot network (a listener in the router's namespace), as
 * Apiary's rollouts and upgrades wake real workers; it switches itself off (the test image powers
 * off after its up marker) or is killed (a power cut). A machine marked {@link #stay} instead stays
 * up like a real worker: its firmware tells the image so (QEMU fw_cfg {@code opt/apiary/stay}), and
 * a reboot restarts it in the same power-on ({@link Vm}). Every QEMU is ended by its PID.
 */
final class Power implements AutoCloseable {
    private final BootNetwork net;
    private final Path dir;
    private final Map<String, List<Vm>> vms = new ConcurrentHashMap<>();
    private final Set<String> staying = ConcurrentHashMap.newKeySet();
    private final Path wolLog;
    private final Thread listener;
    private volatile boolean closed;
    private int boots;

    Power(BootNetwork net, Path dir) throws Exception {
        this.net = net;
        this.dir = dir;
        wolLog = dir.resolve("wol.log");
        net.start(true, wolLog, List.of("/usr/bin/python3", "-u", "-c", """
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("0.0.0.0", 9))
                while True:
                    d, a = s.recvfrom(512)
                    if len(d) >= 102 and d[:6] == b"\\xff" * 6:
                        print("WOL " + d[6:12].hex(":"), flush=True)
                """));
        listener = new Thread(this::listen, "wol-listener");
        listener.setDaemon(true);
        listener.start();
    }

    /** From its next power-on, {@code mac} stays up after its up marker and reboots when its agent says so. */
    void stay(String mac) {
        staying.add(mac);
    }

    /** Powers on the machine with {@code mac} (which must be off). */
    synchronized Vm on(String mac) throws Exception {
        Vm last = lastOrNull(mac);
        assertThat(last == null || !last.on()).as("%s is already on", mac).isTrue();
        String tag = mac.substring(mac.length() - 2) + "-" + ++boots;
        Path serial = dir.resolve("serial-" + tag + ".log");
        Path vars = dir.resolve("vars-" + tag + ".fd");
        Files.copy(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), vars);
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64", "-smp", "1",
                "-m", "1024", "-machine", "q35", "-nodefaults", "-display", "none", "-no-reboot",
                "-chardev", "file,id=console,append=on,path=" + serial, "-serial", "chardev:console",
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=" + vars,
                "-netdev", "tap,id=n0,ifname=" + net.tap() + ",script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",romfile=,bootindex=1"));
        Path log = dir.resolve("qemu-" + tag + ".log");
        Vm vm;
        if (staying.contains(mac)) {
            cmd.addAll(List.of("-fw_cfg", "name=opt/apiary/stay,string=1"));
            vm = Vm.rebooting(mac, serial, log, Instant.now(), () -> net.start(false, log, cmd));
        } else {
            vm = new Vm(mac, serial, log, Instant.now(), net.start(false, log, cmd));
        }
        vms.computeIfAbsent(mac, k -> new CopyOnWriteArrayList<>()).add(vm);
        notifyAll();
        return vm;
    }

    /** The machine's latest power-on. */
    Vm last(String mac) {
        Vm v = lastOrNull(mac);
        assertThat(v).as("%s was never on", mac).isNotNull();
        return v;
    }

    /** How many times {@code mac} has been powered on: take it before what should wake it, then {@link #next}. */
    synchronized int count(String mac) {
        return vms.getOrDefault(mac, List.of()).size();
    }

    /** Waits for a power-on of {@code mac} (by Wake-on-LAN) beyond the first {@code seen}. */
    synchronized Vm next(String mac, int seen, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (vms.getOrDefault(mac, List.of()).size() == seen) {
            long left = deadline - System.nanoTime();
            assertThat(left).as("%s was not woken within %s; WoL heard: %s", mac, within,
                    Files.readString(wolLog)).isPositive();
            wait(Math.max(1, left / 1_000_000));
        }
        return last(mac);
    }

    private Vm lastOrNull(String mac) {
        List<Vm> l = vms.get(mac);
        return l == null || l.isEmpty() ? null : l.get(l.size() - 1);
    }

    /** Powers on a machine whose magic packet was heard, unless it is on already. */
    private void listen() {
        int handled = 0;
        while (!closed) {
            try {
                List<String> lines = Files.readAllLines(wolLog, StandardCharsets.ISO_8859_1);
                for (; handled < lines.size(); handled++) {
                    String l = lines.get(handled);
                    if (l.startsWith("WOL ")) {
                        String mac = l.substring(4).trim();
                        synchronized (this) {
                            Vm last = lastOrNull(mac);
                            if (last == null || !last.on()) {
                                on(mac);
                            }
                        }
                    }
                }
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (!closed) {
                    System.err.println("wol-listener: " + e);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        listener.interrupt();
        for (List<Vm> l : vms.values()) {
            for (Vm v : l) {
                try {
                    v.kill();
                } catch (Exception e) {
                    System.err.println(v.mac() + ": " + e);
                }
            }
        }
    }

    /**
     * One power-on of one machine. A machine that stays up reboots as real hardware does, in the
     * same power-on: its QEMU runs with {@code -no-reboot}, so the guest's reset ends it, and a new
     * QEMU starts with the same command (the same NVRAM file; the console appended to). A reset
     * inside one QEMU under TCG sometimes never reaches the firmware again (kubevirt#6885: the
     * emulator spins and the machine stays silent); a fresh QEMU always starts the firmware.
     */
    static final class Vm {
        private static final String RESET = "reboot: machine restart"; // the kernel's last line on a reset

        private final String mac;
        private final Path console;
        private final Path log;
        private final Instant started;
        private final Restarter restarter; // null: a reset powers it off
        private volatile Process process;
        private volatile boolean cut;
        private int resets;

        /** Starts the machine's QEMU again after a reset. */
        interface Restarter {
            Process start() throws Exception;
        }

        /** A machine whose reset powers it off. */
        Vm(String mac, Path console, Path log, Instant started, Process process) {
            this(mac, console, log, started, process, null);
        }

        private Vm(String mac, Path console, Path log, Instant started, Process process, Restarter restarter) {
            this.mac = mac;
            this.console = console;
            this.log = log;
            this.started = started;
            this.restarter = restarter;
            this.process = process;
            if (restarter != null) {
                watch(process);
            }
        }

        /** A machine that starts again after a reset, from {@code restarter}. */
        static Vm rebooting(String mac, Path console, Path log, Instant started, Restarter restarter) throws Exception {
            return new Vm(mac, console, log, started, restarter.start(), restarter);
        }

        private void watch(Process p) {
            p.onExit().thenRun(() -> {
                try {
                    synchronized (this) {
                        if (!cut && p == process && resetAsked()) {
                            resets++;
                            process = restarter.start();
                            watch(process);
                        }
                    }
                } catch (Exception e) {
                    System.err.println(mac + ": restart after a reset failed: " + e);
                }
            });
        }

        String mac() {
            return mac;
        }

        Instant started() {
            return started;
        }

        /** The QEMU now running this power-on (a new one after each reset of a machine that stays). */
        Process process() {
            return process;
        }

        /** On, or between a reset and the QEMU that follows it. */
        boolean on() throws Exception {
            Process p = process;
            return p.isAlive() || (restarter != null && !cut && resetAsked());
        }

        /** The console ends with the kernel's reset line: the guest asked for a reset, not a power-off. */
        private boolean resetAsked() throws Exception {
            return serial().stripTrailing().endsWith(RESET);
        }

        String serial() throws Exception {
            return Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
        }

        /** The serial console once it shows {@code text}. */
        String await(String text) throws Exception {
            return await(text, 0);
        }

        /** The serial console from character {@code from} on, once that part shows {@code text}. */
        String await(String text, int from) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
            while (true) {
                String all = serial();
                String s = all.substring(Math.min(from, all.length()));
                if (s.contains(text)) {
                    return s;
                }
                boolean on = on();
                if (!on || System.nanoTime() > deadline) {
                    throw new AssertionError(mac + ": no \"" + text + "\" on the serial console (" + (on
                            ? "timed out" : "powered off") + ").\nserial:\n" + s + "\nqemu:\n" + Files.readString(log));
                }
                Thread.sleep(250);
            }
        }

        /** Waits for the machine to power itself off. */
        void awaitOff() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (on()) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("%s did not power off: %s", mac, serial()).isPositive();
                process.waitFor(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
            }
        }

        /** Cuts the power. */
        void kill() throws Exception {
            synchronized (this) {
                cut = true;
            }
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }

        /** How many times the machine has reset within this power-on. */
        synchronized int resets() {
            return resets;
        }
    }
}
