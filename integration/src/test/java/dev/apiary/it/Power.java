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
 * a reboot restarts it in the same power-on. Every QEMU is ended by its PID.
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
        assertThat(last == null || !last.process.isAlive()).as("%s is already on", mac).isTrue();
        String tag = mac.substring(mac.length() - 2) + "-" + ++boots;
        Path serial = dir.resolve("serial-" + tag + ".log");
        Path vars = dir.resolve("vars-" + tag + ".fd");
        Files.copy(Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd"), vars);
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64", "-smp", "1",
                "-m", "1024", "-machine", "q35", "-nodefaults", "-display", "none", "-serial", "file:" + serial,
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=" + vars,
                "-netdev", "tap,id=n0,ifname=" + net.tap() + ",script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",romfile=,bootindex=1"));
        cmd.addAll(staying.contains(mac) ? List.of("-fw_cfg", "name=opt/apiary/stay,string=1") : List.of("-no-reboot"));
        Vm vm = new Vm(mac, serial, dir.resolve("qemu-" + tag + ".log"), Instant.now(), null);
        vm = new Vm(mac, serial, vm.log, vm.started, net.start(false, vm.log, cmd));
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
                            if (last == null || !last.process.isAlive()) {
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
                v.process.destroyForcibly();
            }
        }
    }

    /** One power-on of one machine. */
    record Vm(String mac, Path console, Path log, Instant started, Process process) {
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
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError(mac + ": no \"" + text + "\" on the serial console (" + (process.isAlive()
                            ? "timed out" : "powered off") + ").\nserial:\n" + s + "\nqemu:\n" + Files.readString(log));
                }
                Thread.sleep(250);
            }
        }

        /** Waits for the machine to power itself off. */
        void awaitOff() throws Exception {
            assertThat(process.waitFor(3, TimeUnit.MINUTES)).as("%s did not power off: %s", mac, serial()).isTrue();
        }

        /** Cuts the power. */
        void kill() throws Exception {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
