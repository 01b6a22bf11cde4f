package dev.apiary.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A boot network that exists only for one test: a network namespace holding bridge {@code br0}
 * (10.77.0.1/24, Apiary's side) and one tap device per virtual machine, and optionally a second
 * namespace playing the home router (10.77.0.254, plugged into the bridge by a veth pair). Every
 * process started here runs inside a namespace and is ended by its PID; {@link #close()} removes
 * the namespaces, and with them every interface. Nothing here can reach the host's networks.
 */
final class BootNetwork implements AutoCloseable {
    static final String APIARY = "10.77.0.1", ROUTER = "10.77.0.254";

    final String ns;
    final String routerNs;
    private final List<Process> processes = new ArrayList<>();
    private int taps;

    private BootNetwork(String ns, String routerNs) {
        this.ns = ns;
        this.routerNs = routerNs;
    }

    /** The bridge namespace, and the router's when {@code withRouter}. */
    static BootNetwork create(boolean withRouter) {
        String id = Long.toHexString(ProcessHandle.current().pid()) + "-" + Long.toHexString(System.nanoTime() & 0xffff);
        BootNetwork n = new BootNetwork("apx-boot-" + id, withRouter ? "apx-rtr-" + id : null);
        try {
            n.ip("netns", "add", n.ns);
            n.ip("-n", n.ns, "link", "set", "lo", "up");
            n.ip("-n", n.ns, "link", "add", "br0", "type", "bridge");
            n.ip("-n", n.ns, "addr", "add", APIARY + "/24", "dev", "br0");
            n.ip("-n", n.ns, "link", "set", "br0", "up");
            if (withRouter) {
                n.ip("netns", "add", n.routerNs);
                n.ip("-n", n.routerNs, "link", "set", "lo", "up");
                n.ip("link", "add", "r0", "netns", n.routerNs, "type", "veth", "peer", "name", "vr0", "netns", n.ns);
                n.ip("-n", n.ns, "link", "set", "vr0", "master", "br0", "up");
                n.ip("-n", n.routerNs, "addr", "add", ROUTER + "/24", "dev", "r0");
                // A home router also advertises IPv6; without that iPXE waits ~16 s (boot-chain.md §4).
                n.ip("-n", n.routerNs, "addr", "add", "fd77::fe/64", "dev", "r0", "nodad");
                n.ip("-n", n.routerNs, "link", "set", "r0", "up");
            }
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
        return n;
    }

    /** A new tap device on the bridge, for one VM. */
    String tap() {
        String tap = "tap" + taps++;
        ip("-n", ns, "tuntap", "add", "dev", tap, "mode", "tap");
        ip("-n", ns, "link", "set", tap, "master", "br0", "up");
        return tap;
    }

    /** Starts {@code command} inside the bridge namespace (or the router's), output to {@code log}. */
    Process start(boolean inRouter, Path log, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", inRouter ? routerNs : ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    /** Runs a short command inside the bridge namespace and waits for it. */
    Tools.Result run(String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(List.of(command));
        return Tools.run(Duration.ofSeconds(30), cmd);
    }

    private void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Tools.Result r = Tools.run(Duration.ofSeconds(20), cmd);
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.all());
        }
    }

    @Override
    public void close() {
        for (Process p : processes.reversed()) {
            p.destroy(); // SIGTERM to the PID we started (ip netns exec execs the command itself)
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String n : new String[] {routerNs, ns}) {
            if (n != null) {
                Tools.run(Duration.ofSeconds(20), "ip", "netns", "del", n); // takes the bridge, taps and veths
            }
        }
    }
}
