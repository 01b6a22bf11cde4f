package dev.apiary.it;

import static dev.apiary.it.ServeIT.field;
import static dev.apiary.it.ServeIT.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.apiary.it.ServeIT.Login;
import dev.apiary.it.ServeIT.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code apiary serve} with its volumes in Ceph ({@code store: {type: rbd}}): an unknown machine
 * is enrolled from a golden RBD snapshot, its root is an RBD clone of it and its data volume an
 * RBD image, and its boot script's login reads the golden bytes and keeps what it writes. Runs
 * only against a real cluster (run-tests' Ceph phase: CEPH_CONF, CEPH_KEYRING), in an RBD
 * namespace of its own that it removes.
 */
class RbdServeIT {
    @TempDir
    Path dir;

    private final Ceph ceph = Ceph.fromEnv();
    private final String ns = "serve-it-" + ProcessHandle.current().pid();

    @BeforeEach
    void cluster() {
        assumeTrue(ceph != null, "no Ceph cluster (CEPH_CONF, CEPH_KEYRING)");
        assertThat(ceph.rbd("namespace", "create", "rbd/" + ns).exit()).isZero();
    }

    @AfterEach
    void removeNamespace() {
        if (ceph == null) {
            return;
        }
        ceph.dropNamespace(ns);
    }

    @Test
    void aMachineEnrollsWithItsRootAnRbdCloneOfTheGoldenImage() throws Exception {
        byte[] golden = new byte[8 << 20];
        new Random(5).nextBytes(golden);
        Path raw = dir.resolve("golden.raw");
        Files.write(raw, golden);
        String spec = "rbd/" + ns + "/golden";
        assertThat(ceph.rbd("import", "--no-progress", raw.toString(), spec).exit()).isZero();
        assertThat(ceph.rbd("snap", "create", spec + "@v1").exit()).isZero();
        assertThat(ceph.rbd("snap", "protect", spec + "@v1").exit()).isZero();

        int iscsiPort = Tools.freePort();
        Path config = dir.resolve("apiary.yaml");
        Files.writeString(config, """
                target: {listen: "127.0.0.1:%d", warmup: 0}
                fleet: {enrollment: auto, image: golden@v1, data-size: 32M}
                pxe: {dhcp: off, address: 127.0.0.1, http-port: 0, tftp-port: 0}
                api: {listen: "127.0.0.1:0"}
                store: {type: rbd, conf: "%s", keyring: "%s", pool: rbd, namespace: "%s", timeout: 20s}
                """.formatted(iscsiPort, ceph.conf(), ceph.keyring(), ns));
        Path data = dir.resolve("data");
        try (Server s = Server.start(dir.resolve("serve.log"), "--data", data.toString(), "--config", config.toString())) {
            String ready = s.awaitReady();
            assertThat(Files.readString(s.log())).contains("volumes in rbd rbd/" + ns);
            Login l = Login.of(get(field(ready, "boot") + "/boot/52:54:00:cc:00:01"));
            assertThat(readLun(l, 0, golden.length)).as("root LUN = the golden image").isEqualTo(golden);

            // What the fleet made in Ceph: the root a clone of golden@v1, the data volume its own image.
            String roots = ceph.rbd("ls", "-l", "rbd/" + ns).out();
            assertThat(roots).containsPattern("(?m)^\\S*worker1\\S*\\s+8 MiB\\s+rbd/" + ns + "/golden@v1")
                    .containsPattern("(?m)^\\S*worker1\\S*\\s+32 MiB\\s+2\\b"); // no parent: FMT follows the size

            // A write through the target lands in Ceph and reads back through a new login.
            Tools.Result w = Tools.run(Duration.ofSeconds(60), "qemu-io", "--image-opts", ServeIT.opts(l, 1), "-c",
                    "write -P 0x5a 0 1M");
            assertThat(w.exit()).as(w.all()).isZero();
            byte[] mark = new byte[1 << 20];
            java.util.Arrays.fill(mark, (byte) 0x5a);
            assertThat(readLun(l, 1, mark.length)).isEqualTo(mark);

            // The pool's health through the API and the CLI, as ceph health and ceph df say it.
            String token = StoreIT.apiary("token", "create", "--data", data.toString(), "rbd-it").out().trim();
            String[] conn = {"--api", field(ready, "api"), "--data", data.toString(), "--token", token};
            Tools.Result json = StoreIT.apiary(cat(new String[] {"storage", "health", "--json"}, conn));
            assertThat(json.exit()).as(json.all()).isZero();
            com.fasterxml.jackson.databind.JsonNode h = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(json.out());
            assertThat(h.path("type").asText()).isEqualTo("rbd");
            assertThat(h.path("where").asText()).isEqualTo("rbd/" + ns);
            assertThat(h.path("status").asText()).as(json.out()).isIn("OK", "WARN");
            assertThat(h.path("availableBytes").asLong()).isPositive();
            Tools.Result table = StoreIT.apiary(cat(new String[] {"storage", "health"}, conn));
            assertThat(table.out()).startsWith("rbd rbd/" + ns + ": " + h.path("status").asText() + ", ")
                    .contains(" available");
        }
    }

    private static String[] cat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private byte[] readLun(Login l, int lun, int length) throws Exception {
        Path out = dir.resolve("lun" + lun + ".raw");
        Tools.Result r = Tools.run(Duration.ofSeconds(120), "qemu-img", "convert", "--image-opts", ServeIT.opts(l, lun),
                "-O", "raw", out.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        return java.util.Arrays.copyOf(Files.readAllBytes(out), length);
    }

}
