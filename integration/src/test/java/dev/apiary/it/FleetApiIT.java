package dev.apiary.it;

import static dev.apiary.it.ServeIT.field;
import static dev.apiary.it.ServeIT.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.apiary.it.ServeIT.Login;
import dev.apiary.it.ServeIT.Server;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker snapshots, volumes and jobs through the real API of a real {@code apiary serve}, with the
 * worker's disk seen through libiscsi (qemu-io) as the machine would see it.
 */
class FleetApiIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Api(HttpClient https, String base, String token) {
        HttpResponse<String> send(String method, String path, String json) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + token);
            b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
            return https.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        /** The real CLI against this server: {@code apiary ARGS --api ... --data DATA --token ...}. */
        Tools.Result cli(Path data, String... args) {
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--api", base.replace("/api/v1", ""), "--data", data.toString(), "--token", token));
            return StoreIT.apiary(all.toArray(String[]::new));
        }

        String metrics() throws Exception {
            return https.send(HttpRequest.newBuilder(URI.create(base.replace("/api/v1", "/metrics")))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
        }

        JsonNode ok(String method, String path, String json, int status) throws Exception {
            HttpResponse<String> r = send(method, path, json);
            assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isEqualTo(status);
            return JSON.readTree(r.body());
        }

        /** The error's field for a 400, its status otherwise. */
        String refused(String method, String path, String json) throws Exception {
            HttpResponse<String> r = send(method, path, json);
            JsonNode e = JSON.readTree(r.body());
            assertThat(e.path("message").asText()).as(r.body()).isNotBlank();
            return r.statusCode() == 400 ? "400 " + e.path("field").asText() : Integer.toString(r.statusCode());
        }
    }

    static Tools.Result io(String command, Login l, int lun) {
        return Tools.run(Duration.ofSeconds(60), "qemu-io", "--image-opts", "-c", command, ServeIT.opts(l, lun));
    }

    static void pattern(Login l, int lun, int byteValue, boolean expected) {
        Tools.Result r = io("read -P " + byteValue + " 0 64k", l, lun);
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(!r.out().contains("Pattern verification failed")).as("LUN %d holds 0x%x: %s", lun, byteValue, r.all())
                .isEqualTo(expected);
    }

    @Test
    void snapshotsRollBackWhatTheWorkerWroteAndFlattenIsAJobThatOutlivesARestart() throws Exception {
        Path data = dir.resolve("data");
        ServeIT.importGolden(dir, data, new byte[8 << 20], "v1");
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target: {listen: "127.0.0.1:%d"}
                fleet: {image: golden@v1, data-size: 16M}
                pxe: {dhcp: off, address: 127.0.0.1, http-port: 0, tftp-port: 0}
                api: {listen: "127.0.0.1:0"}
                """.formatted(Tools.freePort()));
        String token = StoreIT.apiary("token", "create", "--data", data.toString(), "ops").out().trim();
        HttpClient https = null;
        long flattenJob;
        try (Server s = Server.start(dir.resolve("serve1.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady(); // the first start makes the certificate
            https = HttpClient.newBuilder().sslContext(ServeIT.trusting(data.resolve("tls/api-cert.pem"))).build();
            Api api = new Api(https, field(ready, "api") + "/api/v1", token);
            Login l = Login.of(get(field(ready, "boot") + "/boot/52:54:00:ee:00:01"));
            assertThat(io("write -P 0x11 0 64k", l, 0).exit()).isZero();
            assertThat(io("write -P 0x22 0 64k", l, 1).exit()).isZero();

            // Its boot timeline: the script, then the first login and a later one (as the OS logs in
            // after the firmware), timed from the start; and in the metrics as durations.
            Instant soon = Instant.now().plusSeconds(10);
            JsonNode boot;
            while ((boot = api.ok("GET", "/workers/worker1", null, 200).path("boot")).path("phases").size() < 3) {
                assertThat(Instant.now()).as("boot timeline: %s", boot).isBefore(soon);
                Thread.sleep(100);
            }
            assertThat(boot.path("boot").asInt()).isEqualTo(1);
            assertThat(boot.path("phases").findValuesAsText("phase")).containsExactly("script", "iscsi-login", "os-login");
            assertThat(boot.path("phases").get(2).path("seconds").asDouble()).isPositive();
            assertThat(api.ok("GET", "/workers/worker1/boots", null, 200).path("items")).hasSize(1);
            assertThat(api.metrics())
                    .containsPattern("apiary_boot_phase_seconds_count\\{phase=\"iscsi-login\"\\} 1")
                    .containsPattern("apiary_boot_phase_seconds_bucket\\{phase=\"os-login\",le=\"300.0\"\\} 1");

            // Snapshot while the worker runs; every refusal names its field or has its status.
            JsonNode snap = api.ok("POST", "/workers/worker1/snapshots", "{\"name\": \"before\"}", 201);
            assertThat(snap.path("volumes")).hasSize(2);
            assertThat(api.refused("POST", "/workers/worker1/snapshots", "{\"name\": \"before\"}")).isEqualTo("409");
            assertThat(api.refused("POST", "/workers/worker1/snapshots", "{\"name\": \"../x\"}")).isEqualTo("400 name");
            assertThat(api.refused("POST", "/workers/worker1/snapshots", "{\"name\": \"y\", \"volumes\": [\"swap\"]}"))
                    .isEqualTo("400 volumes");
            assertThat(api.refused("POST", "/workers/worker1/snapshots", "[1]")).isEqualTo("400 body");
            assertThat(api.refused("POST", "/workers/nobody/snapshots", "{\"name\": \"z\"}")).isEqualTo("404");
            assertThat(api.refused("POST", "/workers/worker1/snapshots/nope/rollback", null)).isEqualTo("404");
            assertThat(api.send("GET", "/workers/worker1/snapshots", null).body()).contains("\"before\"");

            io("write -P 0x33 0 64k", l, 0);
            io("write -P 0x44 0 64k", l, 1);
            JsonNode w = api.ok("POST", "/workers/worker1/snapshots/before/rollback", "{\"volumes\": [\"root\"]}", 200);
            assertThat(w.path("state").asText()).isEqualTo("READY");
            pattern(l, 0, 0x11, true); // the same credentials log in again: the export is back
            pattern(l, 1, 0x44, true); // the data volume was not asked for
            api.ok("POST", "/workers/worker1/snapshots/before/rollback", null, 200);
            pattern(l, 1, 0x22, true);
            assertThat(Files.readString(s.log())).doesNotContain(l.password());

            // Volumes: the store as rbd ls -l shows it, with each volume's worker.
            JsonNode vols = api.ok("GET", "/volumes?limit=500", null, 200);
            JsonNode root = null;
            for (JsonNode v : vols.path("items")) {
                root = v.path("name").asText().equals("fleet.worker1.root") ? v : root;
            }
            assertThat(root).as(vols.toString()).isNotNull();
            assertThat(root.path("parent").asText()).isEqualTo("golden@v1");
            assertThat(root.path("worker").path("name").asText()).isEqualTo("worker1");
            assertThat(root.path("worker").path("role").asText()).isEqualTo("root");
            assertThat(api.refused("GET", "/volumes/nope", null)).isEqualTo("404");
            assertThat(api.refused("GET", "/volumes?limit=0", null)).isEqualTo("400 limit");
            assertThat(api.refused("POST", "/volumes/golden/flatten", null)).as("not a clone").isEqualTo("409");
            assertThat(api.refused("POST", "/volumes/fleet.worker1.root/flatten", null))
                    .as("its own snapshot pins it").isEqualTo("409");
            api.ok("DELETE", "/workers/worker1/snapshots/before", null, 200);

            // The same through the CLI, as tables.
            Tools.Result r = api.cli(data, "workers", "snapshots", "create", "worker1", "cli-snap", "--volumes", "root");
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(r.out()).contains("cli-snap", "root=fleet.worker1.root").doesNotContain("data=");
            assertThat(api.cli(data, "workers", "snapshots", "ls", "worker1").out()).contains("cli-snap");
            r = api.cli(data, "workers", "snapshots", "rollback", "worker1", "nope");
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("apiary snapshots: worker1 has no snapshot nope");
            assertThat(api.cli(data, "workers", "snapshots", "rm", "worker1", "cli-snap").exit()).isZero();
            assertThat(api.cli(data, "volumes", "ls").out()).containsPattern("fleet.worker1.root .* golden@v1\\s+worker1 root");
            r = api.cli(data, "volumes", "flatten", "golden");
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("not a clone");
            assertThat(api.cli(data, "workers", "boots", "worker1").out()).contains("boot 1", "script", "iscsi-login");
            assertThat(api.cli(data, "workers", "show", "worker1").out()).contains("boot 1");
            r = api.cli(data, "images", "seal", "golden", "v2", "--note", "from the CLI");
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(api.ok("GET", "/images", null, 200).toString()).contains("\"note\":\"from the CLI\"");

            // Upgrades, rollouts and next-boot assignment refuse what they cannot do, naming the field.
            assertThat(api.refused("POST", "/rollouts", "{}")).isEqualTo("400 image");
            assertThat(api.refused("POST", "/rollouts", "{\"image\": \"golden@v2\"}")).isEqualTo("400 workers");
            assertThat(api.refused("POST", "/rollouts", "{\"image\": \"golden@v9\", \"workers\": [\"worker1\"]}"))
                    .isEqualTo("400 image");
            assertThat(api.refused("POST", "/rollouts", "{\"image\": \"golden@v2\", \"workers\": [\"../x\"]}"))
                    .isEqualTo("400 workers");
            assertThat(api.refused("POST", "/rollouts", "{\"image\": \"golden@v2\", \"workers\": [\"worker1\"],"
                    + " \"batch-size\": 0}")).isEqualTo("400 batch-size");
            assertThat(api.refused("POST", "/rollouts", "{\"image\": \"golden@v2\", \"workers\": [\"nobody\"]}"))
                    .isEqualTo("404");
            assertThat(api.refused("GET", "/rollouts/x", null)).isEqualTo("400 id");
            assertThat(api.refused("GET", "/rollouts/999", null)).isEqualTo("404");
            assertThat(api.refused("POST", "/images/golden/upgrades", "{}")).isEqualTo("400 worker");
            assertThat(api.refused("POST", "/images/golden/upgrades", "{\"worker\": \"worker1\", \"version\": \"../v\"}"))
                    .isEqualTo("400 version");
            assertThat(api.refused("POST", "/images/golden/upgrades", "{\"worker\": \"worker1\", \"version\": \"v1\"}"))
                    .as("exists").isEqualTo("409");
            assertThat(api.refused("POST", "/images/nope/upgrades", "{\"worker\": \"worker1\"}")).isEqualTo("404");
            assertThat(api.refused("GET", "/images/golden/upgrades/x", null)).isEqualTo("400 id");
            assertThat(api.refused("POST", "/workers/worker1/assign", "{\"image\": \"golden\"}")).isEqualTo("400 image");
            assertThat(api.refused("POST", "/workers/worker1/assign", "{\"image\": \"golden@v9\"}")).isEqualTo("400 image");
            assertThat(api.refused("POST", "/workers/nobody/assign", "{\"image\": \"golden@v2\"}")).isEqualTo("404");
            assertThat(api.ok("POST", "/workers/worker1/assign", "{\"image\": \"golden@v2\"}", 200).path("image").asText())
                    .as("changes at the next boot only").isEqualTo("golden@v1");
            assertThat(api.ok("GET", "/workers/worker1", null, 200).path("nextImage").asText()).isEqualTo("golden@v2");
            api.ok("POST", "/workers/worker1/assign", "{\"image\": \"golden@v1\"}", 200);
            assertThat(api.ok("GET", "/workers/worker1", null, 200).path("nextImage").isNull()).as("already runs it").isTrue();
            // A rollout whose worker never boots: assigned, then the whole rollout rolled back.
            JsonNode rollout = api.ok("POST", "/rollouts", "{\"image\": \"golden@v2\", \"workers\": [\"worker1\"]}", 202);
            long rid = rollout.path("id").asLong();
            Instant until = Instant.now().plusSeconds(10);
            while (!api.ok("GET", "/rollouts/" + rid, null, 200).path("workers").get(0).path("state").asText().equals("ASSIGNED")) {
                assertThat(Instant.now()).as("rollout assigns worker1").isBefore(until);
                Thread.sleep(200);
            }
            assertThat(api.refused("POST", "/rollouts", "{\"image\": \"golden@v2\", \"workers\": [\"worker1\"]}"))
                    .as("already in one").isEqualTo("409");
            JsonNode back = api.ok("POST", "/rollouts/" + rid + "/rollback", null, 202);
            assertThat(back.path("state").asText()).isEqualTo("ROLLED_BACK");
            assertThat(back.path("workers").get(0).path("state").asText()).as("it never left v1").isEqualTo("ROLLED_BACK");
            assertThat(api.ok("GET", "/workers/worker1", null, 200).path("nextImage").isNull()).isTrue();
            assertThat(api.refused("POST", "/rollouts/" + rid + "/rollback", "{\"workers\": [\"worker9\"]}"))
                    .isEqualTo("400 workers");

            // Flatten the exported root online: a job with progress, which the CLI waits for.
            r = api.cli(data, "volumes", "flatten", "fleet.worker1.root");
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(r.out()).contains("flattened fleet.worker1.root");
            JsonNode job = api.ok("GET", "/jobs", null, 200).path("items").get(0);
            flattenJob = job.path("id").asLong();
            assertThat(job.path("kind").asText()).isEqualTo("flatten");
            assertThat(job.path("state").asText()).isEqualTo("DONE");
            assertThat(api.ok("GET", "/volumes/fleet.worker1.root", null, 200).path("parent").isNull()).isTrue();
            pattern(l, 0, 0x11, true);
            assertThat(api.refused("GET", "/jobs/x", null)).isEqualTo("400 id");
            assertThat(api.refused("GET", "/jobs/999999", null)).isEqualTo("404");
        }
        // Jobs are kept in the inventory: the finished flatten is still there after a restart.
        try (Server s = Server.start(dir.resolve("serve2.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady();
            Api api = new Api(https, field(ready, "api") + "/api/v1", token);
            JsonNode job = api.ok("GET", "/jobs/" + flattenJob, null, 200);
            assertThat(job.path("state").asText()).isEqualTo("DONE");
            assertThat(job.path("done").asLong()).isEqualTo(job.path("total").asLong()).isPositive();
            assertThat(job.path("finished").asText()).isNotBlank();
            assertThat(api.ok("GET", "/jobs", null, 200).path("items").get(0).path("id").asLong()).isEqualTo(flattenJob);
        }
    }
}
