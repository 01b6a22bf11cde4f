package dev.apiary.pxe.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.pxe.BootDecision;
import dev.apiary.pxe.Machine;
import dev.apiary.pxe.Sightings;
import dev.apiary.pxe.StaticBootDecision;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP boot endpoints, with the JDK's client and curl as peers, on loopback. */
class BootHttpServiceTest {
    @TempDir
    Path dir;

    Vertx vertx;
    BootHttpService service;
    String base;
    byte[] big;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("scripts"));
        Files.writeString(scripts.resolve("52-54-00-12-34-56.ipxe"), "#!ipxe\necho APIARY-SCRIPT-OK\n");
        Path files = Files.createDirectories(dir.resolve("files"));
        big = new byte[3 << 20];
        new Random(1).nextBytes(big);
        Files.write(files.resolve("vmlinuz"), big);
        Files.writeString(dir.resolve("secret.txt"), "not for HTTP");
        vertx = Vertx.vertx();
        service = new BootHttpService(vertx, new StaticBootDecision(scripts), files, 2);
        int port = service.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + port;
    }

    @AfterEach
    void stop() throws Exception {
        service.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheScriptOfAKnownMacOnly() throws Exception {
        HttpResponse<String> r = get("/boot/52:54:00:12:34:56");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("APIARY-SCRIPT-OK");
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
        assertThat(get("/boot/52-54-00-12-34-56").statusCode()).as("dashes work as iPXE's ${mac:hexhyp}").isEqualTo(200);
        assertThat(get("/boot/52:54:00:12:34:57").statusCode()).isEqualTo(404);
        assertThat(get("/boot/not-a-mac").statusCode()).isEqualTo(400);
        assertThat(get("/boot/52:54:00:12:34:56%0aecho").statusCode()).isEqualTo(400);
    }

    @Test
    void rangeRequestsGetPartialContentWithCurl() throws Exception {
        Path out = dir.resolve("part");
        Process p = new ProcessBuilder("curl", "-s", "-f", "-r", "1000000-1000999", "-o", out.toString(), "-w",
                "%{http_code}", base + "/files/vmlinuz").start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes())).isEqualTo("206");
        assertThat(Files.readAllBytes(out)).isEqualTo(java.util.Arrays.copyOfRange(big, 1000000, 1001000));
    }

    @Test
    void servesNothingOutsideItsDirectory() throws Exception {
        for (String path : List.of("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt",
                "/files//etc/passwd", "/files/")) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(path).isGreaterThanOrEqualTo(400);
            assertThat(r.body()).as(path).doesNotContain("not for HTTP").doesNotContain("root:");
        }
    }

    @Test
    void transfersOverTheCapWaitAndAllComplete() throws Exception {
        List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            all.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/files/vmlinuz"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> f : all) {
            HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(big);
        }
        // The client can have the last byte before the server's end-of-transfer callback runs.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> service.activeTransfers() == 0);
    }

    /** DESIGN.md security model: a script goes only to the address its MAC took by DHCP. */
    @Test
    void withSightingsAScriptGoesOnlyToTheAddressSeenInDhcp() throws Exception {
        Sightings sightings = new Sightings(Duration.ofMinutes(5), java.time.Clock.systemUTC());
        BootHttpService held = new BootHttpService(vertx, new StaticBootDecision(dir.resolve("scripts")),
                dir.resolve("files"), 2, sightings);
        int port = held.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            java.util.function.Supplier<HttpResponse<String>> fetch = () -> {
                try {
                    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/boot/52:54:00:12:34:56")).build(), HttpResponse.BodyHandlers.ofString());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            HttpResponse<String> r = fetch.get();
            assertThat(r.statusCode()).as("no DHCP exchange seen").isEqualTo(403);
            assertThat(r.body()).doesNotContain("APIARY-SCRIPT-OK");
            sightings.saw("52:54:00:12:34:56", java.net.InetAddress.getByName("10.77.0.100"));
            assertThat(fetch.get().statusCode()).as("another host asking for that MAC").isEqualTo(403);
            sightings.saw("52:54:00:12:34:56", java.net.InetAddress.getByName("127.0.0.1"));
            r = fetch.get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("APIARY-SCRIPT-OK");
        } finally {
            held.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    HttpResponse<String> report(int port, String mac, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/boot/" + mac + "/report"))
                .header("Content-Type", "application/x-www-form-urlencoded").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aBootedMachineReportsItsPhasesFromItsOwnAddressOnly() throws Exception {
        List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        BootDecision decision = new BootDecision() {
            @Override
            public Optional<String> script(Machine m) {
                return Optional.empty();
            }

            @Override
            public boolean report(Machine m, String phase, Map<String, String> details) {
                told.add(m.mac() + " " + phase + " " + details);
                return m.mac().endsWith(":56");
            }
        };
        Sightings sightings = new Sightings(Duration.ofMinutes(5), java.time.Clock.systemUTC());
        BootHttpService held = new BootHttpService(vertx, decision, dir.resolve("files"), 2, sightings);
        int port = held.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            String mac = "52:54:00:12:34:56";
            assertThat(report(port, mac, "phase=userspace").statusCode()).as("no DHCP seen").isEqualTo(403);
            sightings.saw(mac, java.net.InetAddress.getByName("127.0.0.1"));
            sightings.saw("52:54:00:12:34:57", java.net.InetAddress.getByName("127.0.0.1"));
            assertThat(report(port, mac, "phase=userspace&version=v2&hostname=worker1").statusCode()).isEqualTo(204);
            assertThat(report(port, "52:54:00:12:34:57", "phase=userspace").statusCode()).as("unknown").isEqualTo(404);
            assertThat(report(port, mac, "version=v2").statusCode()).as("no phase").isEqualTo(400);
            assertThat(report(port, mac, "phase=Up%0aX").statusCode()).isEqualTo(400);
            assertThat(report(port, mac, "phase=userspace&version=%3Cscript%3E").statusCode()).isEqualTo(400);
            assertThat(report(port, mac, "phase=userspace&hostname=" + "h".repeat(65)).statusCode()).isEqualTo(400);
            assertThat(report(port, mac, "phase=userspace&pad=" + "x".repeat(4096)).statusCode()).as("too big")
                    .isEqualTo(413);
            assertThat(report(port, "nope", "phase=userspace").statusCode()).isEqualTo(400);
            assertThat(told).containsExactly(mac + " userspace {hostname=worker1, version=v2}",
                    "52:54:00:12:34:57 userspace {}");
            assertThat(get("/boot/52:54:00:12:34:56").statusCode()).as("the other service still serves").isEqualTo(200);
        } finally {
            held.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    HttpResponse<String> send(int port, String method, String path, String contentType, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", contentType).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Long after its DHCP window a booted OS still speaks for its MAC when it is logged in to its
     * own target; it asks what to do and hands in a maintenance changelog; hostile bodies get 4xx.
     */
    @Test
    void theAgentAsksWhatToDoAndHandsInItsChangelog() throws Exception {
        List<String> changelogs = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean loggedIn = new java.util.concurrent.atomic.AtomicBoolean();
        BootDecision decision = new BootDecision() {
            @Override
            public Optional<String> script(Machine m) {
                return Optional.empty();
            }

            @Override
            public boolean loggedIn(Machine m) {
                return loggedIn.get() && m.address().orElseThrow().isLoopbackAddress();
            }

            @Override
            public String action(Machine m) {
                return m.mac().endsWith(":56") ? "maintenance" : "none";
            }

            @Override
            public boolean changelog(Machine m, String text) {
                changelogs.add(m.mac() + ": " + text);
                return m.mac().endsWith(":56");
            }
        };
        Sightings sightings = new Sightings(Duration.ofMinutes(5), java.time.Clock.systemUTC());
        BootHttpService held = new BootHttpService(vertx, decision, dir.resolve("files"), 2, sightings);
        int port = held.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            String mac = "52:54:00:12:34:56";
            assertThat(send(port, "GET", "/boot/" + mac + "/action", "text/plain", null).statusCode())
                    .as("neither sighted nor logged in").isEqualTo(403);
            loggedIn.set(true);
            HttpResponse<String> action = send(port, "GET", "/boot/" + mac + "/action", "text/plain", null);
            assertThat(action.statusCode()).isEqualTo(200);
            assertThat(action.body()).isEqualTo("maintenance\n");
            assertThat(send(port, "GET", "/boot/52:54:00:12:34:57/action", "text/plain", null).body()).isEqualTo("none\n");
            assertThat(report(port, mac, "phase=maintenance-done").statusCode()).as("no report hook: unknown").isEqualTo(404);

            String log = "upgraded apiary-test-p 1.0 -> 1.1\n";
            assertThat(send(port, "POST", "/boot/" + mac + "/changelog", "text/plain", log).statusCode()).isEqualTo(204);
            assertThat(send(port, "POST", "/boot/52:54:00:12:34:57/changelog", "text/plain", log).statusCode())
                    .as("not in maintenance").isEqualTo(404);
            assertThat(send(port, "POST", "/boot/" + mac + "/changelog", "text/plain", "").statusCode()).isEqualTo(400);
            assertThat(send(port, "POST", "/boot/" + mac + "/changelog", "text/plain", "a\u0000b").statusCode()).isEqualTo(400);
            assertThat(send(port, "POST", "/boot/" + mac + "/changelog", "text/plain", "x".repeat(300 * 1024)).statusCode())
                    .as("too big").isEqualTo(413);
            assertThat(send(port, "POST", "/boot/nope/changelog", "text/plain", log).statusCode()).isEqualTo(400);
            assertThat(changelogs).containsExactly(mac + ": " + log, "52:54:00:12:34:57: " + log);
        } finally {
            held.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
