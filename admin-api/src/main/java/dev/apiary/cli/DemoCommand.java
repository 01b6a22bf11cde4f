package dev.apiary.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code apiary demo}: the whole boot chain on one machine, for a newcomer. It builds (or takes) a
 * worker image, imports it as golden@v1 into a fresh data directory, runs {@code apiary serve} on
 * loopback ({@link DemoServer}), powers on one virtual thin client in QEMU ({@link DemoVm}) and
 * prints each boot phase as the serial console ({@link BootConsole}) and the API's boot timeline
 * ({@link DemoTimeline}) show it; then a summary. Everything it started it stops, by PID.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Boot one virtual thin client through the whole chain on this machine: a worker image,"
                + " apiary serve, QEMU on user-mode networking, iPXE, sanboot, Debian on its iSCSI root, the agent's"
                + " reports; each phase is printed as it happens.",
            "Needs qemu-system-x86, ipxe-qemu and ovmf; without --image, root (to build the image)."})
public final class DemoCommand implements Callable<Integer> {
    /** A locally administered MAC from QEMU's range that boot-test.sh does not use. */
    static final String MAC = "52:54:00:de:00:01";
    static final String RECIPE = "worker-images/recipes/build-worker-image.sh";

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--image", paramLabel = "IMG",
            description = "A raw worker image already built; without it, one is built (as root) into the workdir.")
    Path image;

    @ArgGroup(exclusive = true)
    Firmware firmware = new Firmware();

    static final class Firmware {
        @Option(names = "--uefi", description = "Boot under UEFI: OVMF on q35, like the Wyse 3040 (the default).")
        boolean uefi;

        @Option(names = "--bios", description = "Boot under BIOS: SeaBIOS with QEMU's iPXE ROM.")
        boolean bios;
    }

    @Option(names = "--workdir", paramLabel = "DIR",
            description = "Where the image, the data directory and the logs go (default: a new /tmp/apiary-demo-*).")
    Path workdir;

    @Option(names = "--keep",
            description = "Leave apiary serve running after a boot that came up, to look further with the CLI.")
    boolean keep;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "How long the boot may take to its up marker (default ${DEFAULT-VALUE}).")
    int timeout;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "Apiary's boot HTTP port (default 8080 when free, else a free one). An image's agent reports"
                    + " to 8080 unless it was built with --apiary-url http://10.0.2.2:PORT.")
    Integer httpPort;

    /** Whether this process may build an image; a test replaces it. */
    BooleanSupplier root = () -> new com.sun.security.auth.module.UnixSystem().getUid() == 0;

    private PrintWriter out;
    private PrintWriter err;
    // What this command started, stopped by PID at the end or on Ctrl-C (from the shutdown hook's thread).
    private volatile Process build;
    private volatile DemoServer server;
    private volatile DemoVm vm;
    private volatile boolean leaveServer;
    private volatile boolean interrupted;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        // Whatever can be found wrong before anything starts is found here: exit 2.
        Optional<Path> recipe = Optional.empty();
        if (image == null) {
            if (!root.getAsBoolean()) {
                return usage("no --image, and building one needs root (debootstrap, chroot, a loop device)."
                        + " Run sudo ./apiary demo, or build an image first and pass it:\n"
                        + "  sudo " + RECIPE + " --out worker.img --version demo-1 --poweroff-after-up\n"
                        + "  ./apiary demo --image worker.img");
            }
            recipe = findRecipe();
            if (recipe.isEmpty()) {
                return usage("cannot find " + RECIPE + "; run the demo from the repository, or pass --image IMG");
            }
        } else if (!Files.isRegularFile(image) || !Files.isReadable(image)) {
            return usage("no readable image at " + image);
        }
        if (timeout <= 0) {
            return usage("--timeout must be a positive number of seconds");
        }
        String missing = DemoVm.missingTools(!firmware.bios);
        if (missing != null) {
            return usage(missing);
        }
        Path work = workdir != null ? workdir.toAbsolutePath() : Files.createTempDirectory("apiary-demo-");
        if (Files.exists(work.resolve("data"))) {
            return usage(work.resolve("data") + " exists (an earlier demo?): the demo starts from a fresh data"
                    + " directory; remove it or choose another --workdir");
        }
        Files.createDirectories(work);
        Thread hook = new Thread(() -> {
            interrupted = true;
            stopAll();
        }, "apiary-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(work, recipe, !firmware.bios);
        } finally {
            stopAll();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running or has run
            }
        }
    }

    private int run(Path work, Optional<Path> recipe, boolean uefi) throws Exception {
        out.println("apiary demo: working in " + work);
        int http = httpPort != null ? httpPort : freePort(8080);
        int iscsi = freePort(0);
        Path img = image;
        if (recipe.isPresent()) {
            img = work.resolve("worker.img");
            step("1/4", "building a worker image with " + RECIPE + " (5-10 s with its cached base; the first"
                    + " build takes 90-160 s and downloads Debian from deb.debian.org)");
            // --apiary-url: the agent reports to this demo's port, whichever it is. --poweroff-after-up: after
            // the marker the worker unmounts its data LUN and powers off by itself (4-5 s): nothing is cut off,
            // and the demo shows how a boot ends too.
            if (!build(List.of(recipe.get().toString(), "--out", img.toString(), "--version", "demo-1",
                    "--poweroff-after-up", "--apiary-url", "http://10.0.2.2:" + http), work.resolve("build.log"))) {
                return 1;
            }
        } else {
            step("1/4", "worker image " + img.toAbsolutePath());
            if (http != 8080) {
                out.println("  note: boot HTTP on port " + http + ": unless the image was built with --apiary-url"
                        + " http://10.0.2.2:" + http + ", its agent reports to port 8080 and its reports will be"
                        + " missing");
            }
        }

        server = new DemoServer(work);
        step("2/4", "importing it as golden@v1 into a fresh data directory, " + server.data);
        String token = server.prepare(img, iscsi, http, err);

        step("3/4", "starting apiary serve --data " + server.data + " --config " + server.config);
        Optional<String> ready = server.start();
        if (ready.isEmpty()) {
            err.println("apiary demo: apiary serve did not start; the end of " + server.log + ":");
            server.tail(15).forEach(l -> err.println("  | " + l));
            return 1;
        }
        out.println("  " + ready.get() + " (PID " + server.pid() + ")");
        ApiClient api = new ApiClient();
        api.api = DemoServer.api(ready.get());
        api.data = server.data;
        api.token = token;

        step("4/4", "powering on a thin client: " + (uefi ? "UEFI (OVMF, q35)" : "BIOS (SeaBIOS)") + ", MAC " + MAC
                + ", QEMU under TCG on user-mode networking; serial console in " + work.resolve("console.log"));
        // No "dhcp" in the script: the NIC ROM's iPXE already has slirp's address, and asking again costs 3 s.
        vm = DemoVm.start(work, uefi, MAC, "#!ipxe\nchain http://10.0.2.2:" + http + "/boot/${mac}\n");
        out.printf("  %7s  %-7s  %s%n", "seconds", "from", "phase");
        DemoTimeline timeline = new DemoTimeline(api, MAC, vm.poweredOn);
        Double upAt = null;
        while (vm.alive()) {
            collect(vm.hits.poll(250, TimeUnit.MILLISECONDS), timeline.poll(false));
            double now = vm.seconds();
            print(now - 1.5); // what the API shows comes up to a poll late: wait for it, keep the lines in order
            if (vm.console.fatal().isPresent()) {
                return failed(work, "the boot cannot go on: " + vm.console.fatal().get());
            }
            if (upAt == null && vm.console.up().isPresent()) {
                upAt = now;
            }
            if (upAt == null && now > timeout) {
                return failed(work, "no APIARY-WORKER-UP within " + timeout + " s (--timeout)");
            }
            if (upAt != null && (now > upAt + 60 || !vm.console.poweroffAnnounced() && now > upAt + 10)) {
                print(Double.MAX_VALUE);
                out.println("  " + (vm.console.poweroffAnnounced() ? "no power-off 60 s after the marker"
                        : "the image does not power off by itself (built without --poweroff-after-up)")
                        + ": stopping QEMU, PID " + vm.pid());
                vm.stop();
            }
        }
        vm.awaitExit(10_000);
        for (BootConsole.Hit h; (h = vm.hits.poll()) != null; ) {
            collect(h, List.of());
        }
        collect(null, timeline.poll(true));
        print(Double.MAX_VALUE);
        if (interrupted) {
            err.println("apiary demo: interrupted; QEMU and apiary serve are stopped");
            return 130;
        }
        if (vm.console.up().isEmpty()) {
            return failed(work, "QEMU ended before APIARY-WORKER-UP (its messages: " + work.resolve("qemu.err") + ")");
        }
        summary(work, iscsi, api, timeline, uefi);
        return 0;
    }

    /** One line of the boot's progress, at {@code seconds} since power-on; {@code n} keeps ties in arrival order. */
    private record Line(double seconds, long n, String from, String text) {}

    private final PriorityQueue<Line> pending = new PriorityQueue<>(
            Comparator.comparingDouble(Line::seconds).thenComparingLong(Line::n));
    private long lines;

    private void collect(BootConsole.Hit h, List<DemoTimeline.Event> events) {
        if (h != null) {
            boolean quote = h.milestone() == BootConsole.Milestone.DATA || h.milestone() == BootConsole.Milestone.UP;
            pending.add(new Line(h.seconds(), lines++, "console", quote ? h.line() : h.milestone().label));
        }
        events.forEach(e -> pending.add(new Line(e.seconds(), lines++, "api", e.text())));
    }

    /** Prints the collected lines up to {@code seconds} since power-on, in time order. */
    private void print(double seconds) {
        while (!pending.isEmpty() && pending.peek().seconds() <= seconds) {
            Line l = pending.poll();
            out.printf("  %7.1f  %-7s  %s%n", l.seconds(), l.from(), l.text());
        }
        out.flush();
    }

    private void summary(Path work, int iscsi, ApiClient api, DemoTimeline timeline, boolean uefi) throws Exception {
        BootConsole.Up up = vm.console.up().orElseThrow();
        out.printf("%napiary demo: %s is up: Debian booted under %s from its own iSCSI LUNs, %.1f s from power-on"
                + " to the marker.%n", up.hostname(), uefi ? "UEFI" : "BIOS",
                vm.console.reached(BootConsole.Milestone.UP).orElseThrow().seconds());
        if (timeline.worker().isPresent()) {
            JsonNode w = api.get(WorkersCommand.path(timeline.worker().get()));
            out.printf("  worker      %s, MAC %s, %s%n", w.path("name").asText(), w.path("mac").asText(),
                    w.path("state").asText());
            out.printf("  initiator   %s%n  target      %s, portal 10.0.2.2:%d (this host's 127.0.0.1:%d through"
                    + " slirp)%n", w.path("initiatorIqn").asText(), w.path("targetIqn").asText(), iscsi, iscsi);
            for (JsonNode l : w.path("luns")) {
                String role = l.path("role").asText();
                out.printf("  LUN %s %-4s  %s%s%n", l.path("lun").asText(), role, l.path("volume").asText(),
                        role.equals("ROOT") ? ": copy-on-write clone of " + w.path("image").asText()
                                : role.equals("DATA") ? ": mounted at " + up.data() : "");
            }
            out.printf("  image       %s, version %s%n", w.path("image").asText(), up.version());
            JsonNode boot = timeline.lastBoot();
            out.printf("  userspace   systemd at %s; the agent's userspace report at %s%n",
                    vm.console.reached(BootConsole.Milestone.SYSTEMD).map(h -> "%.1f s".formatted(h.seconds()))
                            .orElse("-"),
                    timeline.reached(boot, "userspace").map("%.1f s"::formatted).orElse("- (none reached Apiary)"));
            out.print("  timeline    ");
            WorkersCommand.boot(out, boot);
        } else {
            out.println("  (the API did not show the worker; see " + server.log + ")");
        }
        out.println("  files       " + work + ": console.log, serve.log, apiary.yaml, data/ (rm -r it when done)");
        if (keep) {
            leaveServer = true;
            out.println("apiary serve is still running, PID " + server.pid() + ". Look further with:");
            out.println("  export APIARY_TOKEN=" + api.token);
            out.println("  ./apiary workers ls --api " + api.api + " --data " + server.data);
            out.println("  ./apiary workers show " + up.hostname() + " --api " + api.api + " --data " + server.data);
            out.println("and stop it with: kill " + server.pid());
        } else {
            out.println("  more        ./apiary demo --keep leaves the server running for ./apiary workers ls");
        }
        out.flush();
    }

    /** A boot that did not make it: why, and the end of its console. Exit 1. */
    private int failed(Path work, String why) {
        print(Double.MAX_VALUE);
        err.println("apiary demo: " + why);
        err.println("apiary demo: the end of the serial console (all of it in " + work.resolve("console.log") + "):");
        vm.console.tail(25).forEach(l -> err.println("  | " + l));
        return 1;
    }

    /** Runs the image recipe, streaming its output with a prefix (and into {@code log}); false if it failed. */
    private boolean build(List<String> command, Path log) throws Exception {
        build = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader r = build.inputReader(StandardCharsets.UTF_8);
                PrintWriter copy = new PrintWriter(Files.newBufferedWriter(log))) {
            for (String l; (l = r.readLine()) != null; ) {
                out.println("  build | " + l);
                out.flush();
                copy.println(l);
            }
        }
        int exit = build.waitFor();
        if (exit != 0) {
            err.println("apiary demo: the image build failed (exit " + exit + "); its output is in " + log);
        }
        return exit == 0;
    }

    /** Stops, by PID, whatever this command started that still runs (not the server with --keep). */
    private synchronized void stopAll() {
        try {
            if (vm != null) {
                vm.stop();
            }
            Process b = build;
            if (b != null && b.isAlive()) {
                b.destroy(); // the recipe undoes its mounts and loop device on SIGTERM
                if (!b.waitFor(60, TimeUnit.SECONDS)) {
                    b.destroyForcibly();
                }
            }
            if (server != null && !leaveServer) {
                server.stop();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void step(String n, String what) {
        out.println("[" + n + "] " + what);
        out.flush();
    }

    private int usage(String message) {
        err.println("apiary demo: " + message);
        return 2;
    }

    /** {@code preferred} when it is free on loopback, else a port the system picks (0: just that). */
    static int freePort(int preferred) throws IOException {
        if (preferred != 0) {
            try (ServerSocket s = new ServerSocket(preferred, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException taken) {
                // any free one, then
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The recipe in the repository this apiary runs from (its jar or classes lie inside it), else in the cwd. */
    static Optional<Path> findRecipe() {
        List<Path> starts = new ArrayList<>();
        try {
            starts.add(Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (Exception e) {
            // no code source: the current directory only
        }
        starts.add(Path.of("").toAbsolutePath());
        for (Path start : starts) {
            for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
                if (Files.isExecutable(p.resolve(RECIPE))) {
                    return Optional.of(p.resolve(RECIPE));
                }
            }
        }
        return Optional.empty();
    }
}
