package dev.apiary.cli;

import dev.apiary.lun.file.FileStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The demo's Apiary: a fresh data directory with the image imported as golden@v1 and an API token,
 * and a child {@code apiary serve} on it (this JDK, this class path) with network boot over HTTP
 * only, everything on loopback. A child rather than a server inside the demo's process: it is
 * exactly what a user runs, its log stays in its own file instead of among the boot phases, and
 * {@code --keep} can leave it running after the demo has ended.
 */
final class DemoServer {
    final Path data;
    final Path config;
    final Path log;
    private Process process;

    DemoServer(Path work) {
        this.data = work.resolve("data");
        this.config = work.resolve("apiary.yaml");
        this.log = work.resolve("serve.log");
    }

    /**
     * Imports {@code image} as golden@v1 (before the server holds the store's lock, as
     * {@code apiary store import} and {@code snapshot} would), writes the configuration and makes
     * a token; returns the token.
     */
    String prepare(Path image, int iscsiPort, int httpPort, PrintWriter progress) throws IOException {
        // 0700, as apiary serve makes it: the master key and the token hashes live here.
        Files.createDirectories(data,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (FileStore store = FileStore.open(data.resolve("store"))) {
            ProgressBar bar = new ProgressBar(progress, "  import golden");
            store.importRaw("golden", image, bar);
            bar.done();
            store.snapshot("golden", "v1");
        }
        Files.writeString(config, """
                # apiary demo: network boot over HTTP only (no DHCP, no TFTP), everything on loopback.
                # QEMU's user-mode network reaches this host's loopback as 10.0.2.2: boot scripts name that portal.
                target:
                  listen: "127.0.0.1:%d"
                  portals: ["10.0.2.2:%d"]
                fleet:
                  enrollment: auto
                  image: golden@v1
                  data-size: 1G
                pxe: {dhcp: off, address: 127.0.0.1, http-port: %d, tftp-port: 0}
                api: {listen: "127.0.0.1:0"}
                """.formatted(iscsiPort, iscsiPort, httpPort));
        return TokenCommand.file(data).create("demo", new SecureRandom());
    }

    /** Starts {@code apiary serve} and waits for its ready line: that line, or empty if the server stopped. */
    Optional<String> start() throws IOException, InterruptedException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--data", data.toString(), "--config", config.toString());
        synchronized (this) {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // a JVM and Flyway on a busy machine
        while (System.nanoTime() < deadline) {
            Optional<String> ready = Files.readAllLines(log).stream().filter(l -> l.startsWith("ready ")).findFirst();
            if (ready.isPresent() || !process.isAlive()) {
                return ready;
            }
            Thread.sleep(250);
        }
        return Optional.empty();
    }

    /** The API's URL from the ready line. */
    static String api(String ready) {
        return ready.replaceAll(".* api=(\\S+).*", "$1");
    }

    long pid() {
        return process.pid();
    }

    /** The end of the server's log, for a failure. */
    List<String> tail(int n) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return lines.subList(Math.max(0, lines.size() - n), lines.size());
    }

    /** Stops the server by its PID: SIGTERM, on which it closes its store and inventory; SIGKILL after 30 s. */
    synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
