package dev.apiary.pxe.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.ServedFile;
import dev.apiary.pxe.Sightings;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A machine's kernel and initrd over HTTP, streamed from what the decision opens, on loopback. */
class KernelRoutesTest {
    static final String MAC = "52:54:00:12:34:56";

    @TempDir
    Path dir;

    final byte[] kernel = bytes(9 * 1024 * 1024 + 13, 1);
    final byte[] initrd = bytes(300_001, 2);
    final AtomicInteger opened = new AtomicInteger(), closed = new AtomicInteger();
    /** Reads at or beyond this offset fail, as a disk error would. */
    volatile long failAt = Long.MAX_VALUE;
    /** Reads wait this long each, so a client can leave mid-transfer. */
    volatile long readMillis;
    /** Opening waits this long, so a client can leave before its file is open. */
    volatile long openMillis;

    Vertx vertx;
    Sightings sightings;
    BootHttpService service;
    String base;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    final BootDecision decision = new BootDecision() {
        @Override
        public Optional<String> script(Machine machine) {
            return machine.mac().equals(MAC) ? Optional.of("#!ipxe\n") : Optional.empty();
        }

        @Override
        public Optional<ServedFile> file(Machine machine, String name) {
            if (!machine.mac().equals(MAC) && !machine.mac().matches("52:54:00:12:34:5[0-4]")) {
                return Optional.empty();
            }
            byte[] content = name.equals("kernel") ? kernel : initrd;
            try {
                Thread.sleep(openMillis);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            opened.incrementAndGet();
            return Optional.of(new ServedFile() {
                @Override
                public long size() {
                    return content.length;
                }

                @Override
                public void read(long offset, ByteBuffer dst) throws IOException {
                    if (offset + dst.remaining() > failAt) {
                        throw new IOException("medium error at " + failAt);
                    }
                    try {
                        Thread.sleep(readMillis);
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                    dst.put(content, (int) offset, dst.remaining());
                }

                @Override
                public void close() {
                    closed.incrementAndGet();
                }
            });
        }
    };

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        sightings = new Sightings(Duration.ofMinutes(5), Clock.systemUTC());
        sightings.saw(MAC, InetAddress.getByName("127.0.0.1"));
        service = new BootHttpService(vertx, decision, dir, 2, sightings);
        int port = service.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + port;
    }

    @AfterEach
    void stop() throws Exception {
        service.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    HttpResponse<byte[]> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void streamsTheKernelAndInitrdWholeAndClosesWhatItOpened() throws Exception {
        HttpResponse<byte[]> k = get("/boot/52-54-00-12-34-56/kernel");
        assertThat(k.statusCode()).isEqualTo(200);
        assertThat(k.headers().firstValue("Content-Length")).contains(Integer.toString(kernel.length));
        assertThat(k.body()).isEqualTo(kernel);
        HttpResponse<byte[]> i = get("/boot/" + MAC + "/initrd");
        assertThat(i.statusCode()).isEqualTo(200);
        assertThat(i.body()).isEqualTo(initrd);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> closed.get() == 2 && service.activeTransfers() == 0);
        assertThat(opened).hasValue(2);
    }

    /**
     * A slow client (the emulated firmware of a booting machine) fills the connection's write
     * queue again and again; each chunk must still go out once, in order, and the response end once.
     */
    @Test
    void aSlowClientGetsEveryByteOnceInOrder() throws Exception {
        for (int round = 0; round < 3; round++) {
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(16 * 1024);
                s.connect(new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(base.substring(base.lastIndexOf(':') + 1))));
                s.setSoTimeout(30_000);
                s.getOutputStream().write(("GET /boot/" + MAC + "/kernel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
                byte[] buf = new byte[8 * 1024];
                long pauseEvery = 512 * 1024, next = pauseEvery;
                for (int n; (n = in.read(buf)) > 0; ) {
                    all.write(buf, 0, n);
                    if (all.size() > next) { // stall now and then, as a busy guest does
                        next += pauseEvery;
                        Thread.sleep(20);
                    }
                }
                byte[] got = all.toByteArray();
                int body = indexOf(got, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) + 4;
                assertThat(new String(got, 0, 12, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
                assertThat(got.length - body).as("the body is the file's length, no more").isEqualTo(kernel.length);
                assertThat(java.util.Arrays.copyOfRange(got, body, got.length)).isEqualTo(kernel);
            }
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void refusesUnknownMachinesBadMacsAndOtherAddresses() throws Exception {
        assertThat(get("/boot/52:54:00:12:34:57/kernel").statusCode()).isEqualTo(403);
        sightings.saw("52:54:00:12:34:57", InetAddress.getByName("127.0.0.1"));
        assertThat(get("/boot/52:54:00:12:34:57/kernel").statusCode()).as("sighted, but no such machine").isEqualTo(404);
        assertThat(get("/boot/not-a-mac/kernel").statusCode()).isEqualTo(400);
        assertThat(get("/boot/" + MAC + "/vmlinuz").statusCode()).as("only kernel and initrd").isEqualTo(404);
        sightings.saw(MAC, InetAddress.getByName("10.77.0.100"));
        assertThat(get("/boot/" + MAC + "/kernel").statusCode()).as("another host asking for that MAC").isEqualTo(403);
        assertThat(opened).hasValue(0);
    }

    @Test
    void aClientLeavingMidTransferClosesTheFileAndFreesItsSlot() throws Exception {
        readMillis = 20;
        try (Socket s = new Socket("127.0.0.1", Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)))) {
            s.getOutputStream().write(("GET /boot/" + MAC + "/kernel HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] some = in.readNBytes(64 * 1024);
            assertThat(new String(some, 0, 12, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> closed.get() == 1 && service.activeTransfers() == 0);
        readMillis = 0;
        assertThat(get("/boot/" + MAC + "/initrd").body()).isEqualTo(initrd);
    }

    @Test
    void oneMachineHoldsAtMostTwoTransfersAtOnce() throws Exception {
        readMillis = 50;
        List<CompletableFuture<HttpResponse<byte[]>>> two = new ArrayList<>();
        for (int n = 0; n < KernelRoutes.PER_MACHINE; n++) {
            two.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/boot/" + MAC + "/initrd"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> opened.get() == KernelRoutes.PER_MACHINE);
        assertThat(get("/boot/" + MAC + "/kernel").statusCode()).isEqualTo(429);
        for (CompletableFuture<HttpResponse<byte[]>> f : two) {
            assertThat(f.get(60, TimeUnit.SECONDS).body()).isEqualTo(initrd);
        }
        readMillis = 0;
        assertThat(get("/boot/" + MAC + "/kernel").body()).as("the count goes down again").isEqualTo(kernel);
    }

    @Test
    void aClientLeavingWhileItsFileOpensStillGetsItClosed() throws Exception {
        openMillis = 500;
        try (Socket s = new Socket("127.0.0.1", Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)))) {
            s.getOutputStream().write(("GET /boot/" + MAC + "/kernel HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(100);
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> opened.get() == 1 && closed.get() == 1
                && service.activeTransfers() == 0);
    }

    @Test
    void aReadErrorCutsTheTransferShortAndOthersGoOn() throws Exception {
        failAt = 1 << 20;
        assertThatThrownBy(() -> get("/boot/" + MAC + "/kernel")).as("a body shorter than its Content-Length")
                .isInstanceOf(IOException.class);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> closed.get() == 1 && service.activeTransfers() == 0);
        failAt = Long.MAX_VALUE;
        List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
        for (int n = 0; n < 5; n++) {
            String mac = "52:54:00:12:34:5" + n; // five machines: one may hold only two transfers
            sightings.saw(mac, InetAddress.getByName("127.0.0.1"));
            all.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/boot/" + mac + "/kernel"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> f : all) {
            assertThat(f.get(60, TimeUnit.SECONDS).body()).as("five at once over a cap of two").isEqualTo(kernel);
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> closed.get() == 6);
    }
}
