package dev.apiary.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code apiary export} as a child process, started the way a user starts it (same main class and
 * options) and stopped with SIGTERM by its PID. Its stdout lines are collected; stderr goes to a
 * log file under target/.
 */
final class ExportProcess implements AutoCloseable {
    final Process process;
    final List<String> urls = new ArrayList<>();
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final Path log;

    private ExportProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "export-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    static ExportProcess start(String... args) throws IOException {
        List<String> exportArgs = new ArrayList<>(List.of("export"));
        exportArgs.addAll(List.of(args));
        List<String> cmd = Tools.apiary(List.of(), exportArgs);
        Path dir = Paths.get("target", "it-logs");
        Files.createDirectories(dir);
        Path log = Files.createTempFile(dir, "export-", ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        return new ExportProcess(p, log);
    }

    /** Waits for {@code count} "ready" lines; fails with the process's output if it exits first. */
    ExportProcess awaitReady(int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (urls.size() < count) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith("ready ")) {
                urls.add(line.substring("ready ".length()));
            }
            if (line == null && !process.isAlive()) {
                throw new AssertionError("export exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("export not ready in 60 s: " + Files.readString(log));
            }
        }
        return this;
    }

    /** The next stdout line, or null after {@code seconds}. */
    String nextLine(int seconds) throws InterruptedException {
        return lines.poll(seconds, TimeUnit.SECONDS);
    }

    /** A libiscsi URL with credentials for LUN {@code lun}. */
    String url(String user, String secret, int lun) {
        String u = urls.get(lun);
        return u.replace("iscsi://", "iscsi://" + user + "%" + secret + "@");
    }

    /** SIGTERM, as a user's Ctrl-C or systemd stop would; returns the exit code. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("export did not stop within 30 s of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}
