package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5's crash test: the server dies as if by kill -9 in the middle of an enrollment and of a
 * reimage (a failpoint halts the JVM between two steps), and after a restart the inventory agrees
 * with the volume store and the exports: no volume without a worker, no worker without its volumes.
 */
class FleetCrashIT {
    static final String MAC = "52:54:00:cc:00:01";

    @TempDir
    Path dir;

    Path data;
    Path config;

    @BeforeEach
    void golden() throws Exception {
        data = dir.resolve("data");
        ServeIT.importGolden(dir, data, new byte[4 << 20], "v1", "v2");
        config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target: {listen: "127.0.0.1:%d", warmup: 0}  # dozens of restarts; the warm-up is ServeIT's
                fleet: {image: golden@v1, data-size: 16M}
                pxe: {dhcp: off, address: 127.0.0.1, http-port: 0, tftp-port: 0}
                api: {listen: "127.0.0.1:0"}
                """.formatted(Tools.freePort()));
    }

    ServeIT.Server serve(String log, String failpoint) throws Exception {
        List<String> jvm = failpoint == null ? List.of() : List.of("-Dapiary.failpoint=" + failpoint);
        return ServeIT.Server.start(dir.resolve(log), jvm, "--data", data.toString(), "--config", config.toString());
    }

    /** The process halted by its failpoint: exit 137, and the request that hit it got no answer. */
    static void assertHalted(ServeIT.Server s) throws Exception {
        assertThat(s.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(s.process().exitValue()).as(Files.readString(s.log())).isEqualTo(137);
        assertThat(Files.readString(s.log())).contains("failpoint");
    }

    static String fleetVolumes(String store) {
        Tools.Result ls = StoreIT.apiary("store", "--dir", store, "ls");
        assertThat(ls.exit()).as(ls.all()).isZero();
        return ls.out();
    }

    @Test
    void aCrashMidEnrollmentIsUndoneAtRestart() throws Exception {
        for (String failpoint : List.of("enroll.after-row", "enroll.after-clone")) {
            try (ServeIT.Server s = serve("crash-" + failpoint + ".log", failpoint)) {
                String boot = ServeIT.field(s.awaitReady(), "boot");
                try {
                    HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(boot + "/boot/" + MAC))
                            .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException expected) {
                    // the server died mid-request
                }
                assertHalted(s);
            }
            String store = data.resolve("store").toString();
            if (failpoint.equals("enroll.after-clone")) {
                assertThat(fleetVolumes(store)).as("the crash left a clone behind").contains("fleet.worker1.root");
            }
            // Restart: reconcile undoes the half enrollment before anything is exported.
            try (ServeIT.Server s = serve("restart-" + failpoint + ".log", null)) {
                s.awaitReady();
                assertThat(Files.readString(s.log())).contains("worker1 was left enrolling by a crash; undoing it");
            }
            assertThat(fleetVolumes(store)).as(failpoint).doesNotContain("fleet.");
        }
        // And the machine enrolls cleanly on its next boot.
        try (ServeIT.Server s = serve("final.log", null)) {
            String boot = ServeIT.field(s.awaitReady(), "boot");
            ServeIT.Login l = ServeIT.Login.of(ServeIT.get(boot + "/boot/" + MAC));
            Tools.Result inq = Tools.run(Duration.ofSeconds(30), "iscsi-inq", "-i", l.initiator(), l.url(0));
            assertThat(inq.exit()).as(inq.all()).isZero();
        }
        assertThat(fleetVolumes(data.resolve("store").toString())).contains("fleet.worker1.root", "fleet.worker1.data");
    }

    @Test
    void aCrashMidReimageKeepsTheOldRoot() throws Exception {
        String token;
        try (ServeIT.Server s = serve("enroll.log", null)) {
            String boot = ServeIT.field(s.awaitReady(), "boot");
            ServeIT.get(boot + "/boot/" + MAC);
            token = StoreIT.apiary("token", "create", "--data", data.toString(), "ops").out().trim();
        }
        try (ServeIT.Server s = serve("crash-reimage.log", "reimage.after-clone")) {
            String api = ServeIT.field(s.awaitReady(), "api") + "/api/v1";
            HttpClient https = HttpClient.newBuilder().sslContext(ServeIT.trusting(data.resolve("tls/api-cert.pem"))).build();
            try {
                https.send(HttpRequest.newBuilder(URI.create(api + "/workers/worker1/reimage"))
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"image\": \"golden@v2\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException expected) {
                // the server died mid-request
            }
            assertHalted(s);
        }
        assertThat(fleetVolumes(data.resolve("store").toString())).contains("fleet.worker1.root-");
        try (ServeIT.Server s = serve("restart.log", null)) {
            String ready = s.awaitReady();
            String api = ServeIT.field(ready, "api") + "/api/v1";
            HttpClient https = HttpClient.newBuilder().sslContext(ServeIT.trusting(data.resolve("tls/api-cert.pem"))).build();
            HttpResponse<String> w = ServeIT.call(https, api + "/workers/worker1", token);
            assertThat(w.body()).contains("\"state\":\"READY\"", "\"volume\":\"fleet.worker1.root\"",
                    "\"image\":\"golden@v1\"").doesNotContain("root-").doesNotContain("PREVIOUS");
            ServeIT.Login l = ServeIT.Login.of(ServeIT.get(ServeIT.field(ready, "boot") + "/boot/" + MAC));
            Tools.Result inq = Tools.run(Duration.ofSeconds(30), "iscsi-inq", "-i", l.initiator(), l.url(0));
            assertThat(inq.exit()).as(inq.all()).isZero();
        }
        assertThat(fleetVolumes(data.resolve("store").toString())).doesNotContain("fleet.worker1.root-");
    }
}
