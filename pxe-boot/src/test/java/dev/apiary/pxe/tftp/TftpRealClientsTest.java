package dev.apiary.pxe.tftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server against real clients: curl (tftp://, --tftp-blksize), atftp (blksize, tsize,
 * windowsize) and tftp-hpa (plain RFC 1350, netascii). Skipped where a client is not installed
 * (scripts/install-test-deps.sh installs them).
 */
class TftpRealClientsTest {
    @TempDir
    Path tmp;
    Path root;
    Path out;
    TftpServer server;
    byte[] kernel;

    @BeforeEach
    void start() throws Exception {
        root = Files.createDirectories(tmp.resolve("root"));
        out = Files.createDirectories(tmp.resolve("out"));
        kernel = random(200 * 1024 + 17, 2);
        Files.write(root.resolve("kernel"), kernel);
        Files.writeString(tmp.resolve("secret"), "secret");
        server = serve(TftpServer.Config.defaults().withTimeouts(Duration.ofMillis(300), 5));
    }

    private TftpServer serve(TftpServer.Config config) throws Exception {
        return new TftpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new RootDirectory(root),
                config).start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static boolean installed(String tool) {
        return Files.isExecutable(Path.of("/usr/bin", tool));
    }

    record Result(int exit, String output) {
    }

    /** Runs a client we started, killed by its handle if it overruns. */
    static Process launch(Path dir, List<String> cmd) throws IOException {
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("log-" + System.nanoTime()).toFile()).start();
    }

    static Result run(Path dir, List<String> cmd) throws Exception {
        Path log = dir.resolve("log-" + System.nanoTime());
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("client overran: " + cmd);
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.ISO_8859_1));
    }

    String port() {
        return Integer.toString(server.localAddress().getPort());
    }

    List<String> curl(String path, int blksize, Path dest) {
        return List.of("curl", "-sS", "--max-time", "100", "--path-as-is", "--tftp-blksize", Integer.toString(blksize),
                "-o", dest.toString(), "tftp://127.0.0.1:" + port() + "/" + path);
    }

    List<String> atftp(String path, Path dest, String... options) {
        List<String> cmd = new ArrayList<>(List.of("atftp", "--trace", "--tftp-timeout", "1"));
        for (String o : options) {
            cmd.add("--option");
            cmd.add(o);
        }
        cmd.addAll(List.of("-g", "-r", path, "-l", dest.toString(), "127.0.0.1", port()));
        return cmd;
    }

    @Test
    void curlNegotiatesBlksizeAndTsize() throws Exception {
        assumeTrue(installed("curl"));
        for (int blksize : new int[] {512, 1468, 8192, 65464}) {
            Path dest = out.resolve("k" + blksize);
            Result r = run(out, curl("kernel", blksize, dest));
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(Files.readAllBytes(dest)).isEqualTo(kernel);
        }
    }

    @Test
    void atftpNegotiatesBlksizeTsizeAndWindowsize() throws Exception {
        assumeTrue(installed("atftp"));
        Path dest = out.resolve("k");
        Result r = run(out, atftp("kernel", dest, "blksize 1468", "tsize", "windowsize 8"));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("OACK").contains("windowsize").contains(Integer.toString(kernel.length));
        assertThat(Files.readAllBytes(dest)).isEqualTo(kernel);
    }

    @Test
    void tftpHpaPlainOctetAndNetascii() throws Exception {
        assumeTrue(installed("tftp"));
        Path dest = out.resolve("k");
        Result r = run(out, List.of("tftp", "-m", "octet", "127.0.0.1", port(), "-c", "get", "kernel", dest.toString()));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(Files.readAllBytes(dest)).isEqualTo(kernel);
        String text = "#!ipxe\nchain http://boot/\r\nend\n".repeat(100);
        Files.writeString(root.resolve("boot.ipxe"), text);
        Path t = out.resolve("t");
        r = run(out, List.of("tftp", "-m", "netascii", "127.0.0.1", port(), "-c", "get", "boot.ipxe", t.toString()));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(Files.readString(t)).isEqualTo(text); // netascii on the wire, converted back by the client
    }

    @Test
    void fileOver32MiBRollsBlockNumbersOver() throws Exception {
        assumeTrue(installed("curl") && installed("atftp"));
        byte[] big = random(33 * 1024 * 1024 + 100, 3); // > 65535 blocks of 512 bytes
        Files.write(root.resolve("big"), big);
        Path dest = out.resolve("big-curl");
        Result r = run(out, curl("big", 512, dest));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(Files.readAllBytes(dest)).isEqualTo(big);
        Path dest2 = out.resolve("big-atftp");
        List<String> cmd = new ArrayList<>(atftp("big", dest2, "blksize 512", "windowsize 8"));
        cmd.remove("--trace");
        r = run(out, cmd);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(Files.readAllBytes(dest2)).isEqualTo(big);
    }

    @Test
    void fiftyTransfersAtOnce() throws Exception {
        assumeTrue(installed("curl"));
        fiftyClients();
    }

    @Test
    void fiftyClientsOverTheAdmissionCapAreDelayedNotFailed() throws Exception {
        assumeTrue(installed("curl"));
        server.close();
        server = serve(TftpServer.Config.defaults().withMaxTransfers(1).withTimeouts(Duration.ofMillis(300), 5));
        AtomicInteger maxWaiting = new AtomicInteger();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            for (int i = 0; i < 60_000 && !Thread.currentThread().isInterrupted(); i++) {
                maxWaiting.accumulateAndGet(server.waitingRequests(), Math::max);
                LockSupport.parkNanos(1_000_000);
            }
        });
        try {
            fiftyClients();
        } finally {
            sampler.interrupt();
            sampler.join(5000);
        }
        assertThat(maxWaiting.get()).isPositive(); // some did wait for the single slot
    }

    private void fiftyClients() throws Exception {
        List<Process> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                clients.add(launch(out, curl("kernel", 1468, out.resolve("c" + i))));
            }
            for (Process p : clients) {
                assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isZero();
            }
        } finally {
            clients.forEach(p -> {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            });
        }
        for (int i = 0; i < 50; i++) {
            assertThat(Files.readAllBytes(out.resolve("c" + i))).isEqualTo(kernel);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeTransfers() == 0);
    }

    @Test
    void lostPacketsAreRetransmitted() throws Exception {
        assumeTrue(installed("curl") && installed("atftp"));
        // Drop the first transmission of every 40th DATA packet (and of the OACK once).
        Set<String> dropped = ConcurrentHashMap.newKeySet();
        server.dropOutbound(b -> {
            int opcode = b.getUnsignedShort(b.readerIndex());
            int block = b.getUnsignedShort(b.readerIndex() + 2);
            String key = opcode == 6 ? "oack" : Integer.toString(block);
            return (opcode == 6 || block % 40 == 7) && dropped.add(key + "/" + b.readableBytes());
        });
        Path d1 = out.resolve("lossy-curl");
        // curl asks for timeout=5 (RFC 2349), which the server honours, so each loss would cost 5 s;
        // without options it is plain RFC 1350 and the server's own 300 ms timer applies.
        List<String> plain = new ArrayList<>(curl("kernel", 512, d1));
        plain.add(1, "--tftp-no-options");
        Result r = run(out, plain);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(Files.readAllBytes(d1)).isEqualTo(kernel);
        assertThat(dropped).hasSizeGreaterThan(5); // 400 blocks: 7, 47, ... 367
        dropped.clear();
        Path d2 = out.resolve("lossy-atftp");
        r = run(out, atftp("kernel", d2, "blksize 1024", "windowsize 4"));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(Files.readAllBytes(d2)).isEqualTo(kernel);
        assertThat(dropped).isNotEmpty();
    }

    @Test
    void pathEscapesAreRefused() throws Exception {
        assumeTrue(installed("curl") && installed("atftp"));
        Files.createSymbolicLink(root.resolve("link"), tmp.resolve("secret"));
        for (String bad : new String[] {"../secret", "link", "%2Fetc%2Fpasswd", "a/../../secret"}) {
            Path dest = out.resolve("x");
            Files.deleteIfExists(dest);
            Result r = run(out, curl(bad, 512, dest));
            assertThat(r.exit()).as(bad + ": " + r.output()).isNotZero();
            assertThat(dest).doesNotExist();
        }
        Result r = run(out, atftp("../secret", out.resolve("y"), "tsize"));
        assertThat(r.output()).containsIgnoringCase("access violation");
        assertThat(Files.exists(out.resolve("y")) ? Files.readString(out.resolve("y")) : "").isEmpty();
    }
}
