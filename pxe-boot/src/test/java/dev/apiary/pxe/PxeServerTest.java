package dev.apiary.pxe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.apiary.pxe.dhcp.DhcpMessage;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.commons.net.tftp.TFTP;
import org.apache.commons.net.tftp.TFTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The boot services started together, on loopback (DHCP off: the netns test PxeBootIT covers it). */
class PxeServerTest {
    @TempDir
    Path dir;

    Vertx vertx;
    Path ipxe;
    Path scripts;
    byte[] efi = new byte[100_000];

    @BeforeEach
    void files() throws Exception {
        vertx = Vertx.vertx();
        ipxe = Files.createDirectories(dir.resolve("ipxe"));
        scripts = Files.createDirectories(dir.resolve("scripts"));
        new Random(7).nextBytes(efi);
        Files.write(ipxe.resolve("snponly.efi"), efi);
        Files.write(ipxe.resolve("undionly.kpxe"), new byte[] {1, 2, 3});
        Files.writeString(scripts.resolve("52-54-00-00-00-01.ipxe"), "#!ipxe\necho hello\n");
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    PxeServer.Config config(Path ipxeDir, String uefiFile) {
        return new PxeServer.Config(PxeServer.DhcpMode.OFF, DhcpMessage.ip("127.0.0.1"), null, 0, 0, ipxeDir,
                uefiFile, "undionly.kpxe", ipxeDir, 4, null);
    }

    @Test
    void servesBootFilesByTftpAndScriptsByHttp() throws Exception {
        try (PxeServer server = new PxeServer(config(ipxe, "snponly.efi"), new StaticBootDecision(scripts), vertx).start()) {
            TFTPClient tftp = new TFTPClient();
            tftp.open();
            tftp.setDefaultTimeout(java.time.Duration.ofSeconds(5));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                tftp.receiveFile("snponly.efi", TFTP.BINARY_MODE, got, InetAddress.getLoopbackAddress(),
                        server.tftpAddress().getPort());
            } finally {
                tftp.close();
            }
            assertThat(got.toByteArray()).isEqualTo(efi);

            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(server.httpBase() + "/boot/52:54:00:00:00:01")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("#!ipxe\necho hello\n");
        }
    }

    @Test
    void refusesToStartWithoutTheIpxeBinaries() {
        Path empty = dir.resolve("none");
        assertThatThrownBy(() -> new PxeServer(config(empty, "snponly.efi"), new StaticBootDecision(scripts), vertx).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(empty.resolve("snponly.efi").toString())
                .hasMessageContaining("apt-get install ipxe");
        assertThatThrownBy(() -> new PxeServer(config(ipxe, "ipxe.efi"), new StaticBootDecision(scripts), vertx).start())
                .hasMessageContaining("ipxe.efi");
    }

    @Test
    void aFailedStartReleasesWhatItBound() throws Exception {
        try (PxeServer first = new PxeServer(config(ipxe, "snponly.efi"), new StaticBootDecision(scripts), vertx).start()) {
            int taken = first.tftpAddress().getPort();
            int httpPort;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                httpPort = s.getLocalPort();
            }
            // HTTP starts first and binds; TFTP then fails on the port the first server holds.
            PxeServer.Config clash = new PxeServer.Config(PxeServer.DhcpMode.OFF, DhcpMessage.ip("127.0.0.1"), null,
                    httpPort, taken, ipxe, "snponly.efi", "undionly.kpxe", ipxe, 4, null);
            assertThatThrownBy(new PxeServer(clash, new StaticBootDecision(scripts), vertx)::start)
                    .hasMessageContaining("Address already in use");
            // The failed start lets its HTTP port go (Vert.x closes the listening socket on its
            // acceptor loop, a moment after the close future completes).
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).ignoreExceptions()
                    .untilAsserted(() -> {
                        try (java.net.ServerSocket s = new java.net.ServerSocket(httpPort, 1,
                                InetAddress.getLoopbackAddress())) {
                            assertThat(s.getLocalPort()).isEqualTo(httpPort);
                        }
                    });
        }
    }
}
