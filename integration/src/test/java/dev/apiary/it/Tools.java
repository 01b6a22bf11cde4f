package dev.apiary.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real peers (libiscsi tools, QEMU) as child processes with a time bound. */
final class Tools {
    private Tools() {}

    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static Result run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    static Result run(Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("apiary-it", ".out");
            Path err = Files.createTempFile("apiary-it", ".err");
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
            }
            Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * The command line of {@code apiary ARGS} as a user runs it (same main class, this test's
     * class path and JDK), with {@code jvmArgs} before the class path.
     */
    static List<String> apiary(List<String> jvmArgs, List<String> args) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.apiary.cli.Main"));
        cmd.addAll(args);
        return cmd;
    }

    /** The repository's root (tests run in integration/). */
    static Path repo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("worker-images/recipes"))) {
                return p;
            }
        }
        throw new IllegalStateException("no worker-images/recipes above " + Path.of("").toAbsolutePath());
    }

    /** A loopback port that was free a moment ago. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
