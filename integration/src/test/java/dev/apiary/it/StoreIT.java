package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store as a user drives it: the apiary store CLI makes a golden image, a snapshot and two
 * clones; apiary export serves them; libiscsi (through qemu-io and qemu-img) writes one clone. The
 * golden image and the sibling clone must not change by a byte.
 */
class StoreIT {
    @TempDir
    Path dir;

    static Tools.Result apiary(String... args) {
        return Tools.run(Duration.ofMinutes(2), Tools.apiary(java.util.List.of(), java.util.List.of(args)));
    }

    @Test
    void writesThroughACloneLeaveTheGoldenImageAndItsSiblingUnchanged() throws Exception {
        Path golden = dir.resolve("golden.raw");
        byte[] content = new byte[32 << 20];
        new Random(42).nextBytes(content);
        java.util.Arrays.fill(content, 8 << 20, 16 << 20, (byte) 0); // a zero range stays a hole
        Files.write(golden, content);
        String store = dir.resolve("store").toString();

        Tools.Result imp = apiary("store", "--dir", store, "import", "golden", golden.toString());
        assertThat(imp.exit()).as(imp.all()).isZero();
        assertThat(imp.err()).contains("import golden 100%");
        assertThat(apiary("store", "--dir", store, "snapshot", "golden@v1").exit()).isZero();
        assertThat(apiary("store", "--dir", store, "clone", "golden@v1", "w1").exit()).isZero();
        assertThat(apiary("store", "--dir", store, "clone", "golden@v1", "w2").exit()).isZero();
        Tools.Result ls = apiary("store", "--dir", store, "ls");
        assertThat(ls.out()).contains("golden").contains("v1 (w1 w2)").containsPattern("w1\\s+32.0 MiB\\s+golden@v1");

        int port = Tools.freePort();
        try (ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + port, "--chap", "st:secretsecret12",
                "--store", store, "vol:w1", "vol:w2", "vol:golden").awaitReady(3)) {
            String w1 = e.url("st", "secretsecret12", 0);
            // Unaligned, cluster-straddling writes: the partial clusters are copied up from the snapshot.
            for (String cmd : new String[] {"write -P 0xa5 1000000 70000", "write -P 0x5a 9437184 4096",
                    "write -z 20000000 12345", "discard 0 65536"}) {
                Tools.Result w = Tools.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", "-c", cmd, w1);
                assertThat(w.exit()).as(cmd + ": " + w.all()).isZero();
            }
            byte[] expected = content.clone();
            java.util.Arrays.fill(expected, 1000000, 1070000, (byte) 0xa5);
            java.util.Arrays.fill(expected, 9437184, 9437184 + 4096, (byte) 0x5a);
            java.util.Arrays.fill(expected, 20000000, 20012345, (byte) 0);
            java.util.Arrays.fill(expected, 0, 65536, (byte) 0); // unmapped: zeros, not the parent's data

            assertThat(read(e.url("st", "secretsecret12", 0), "w1")).as("w1").isEqualTo(expected);
            assertThat(read(e.url("st", "secretsecret12", 1), "w2")).as("sibling clone w2").isEqualTo(content);
            assertThat(read(e.url("st", "secretsecret12", 2), "golden")).as("golden").isEqualTo(content);
        }
        Tools.Result du = apiary("store", "--dir", store, "du", "w1", "w2");
        assertThat(du.out()).containsPattern("w2\\s+32.0 MiB\\s+0 B");
    }

    private byte[] read(String url, String name) throws Exception {
        Path out = dir.resolve(name + ".out");
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "qemu-img", "convert", "-f", "raw", "-O", "raw", url,
                out.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        return Files.readAllBytes(out);
    }

    @Test
    void storeErrorsAreOneClearLine() throws Exception {
        String store = dir.resolve("store").toString();
        assertThat(apiary("store", "--dir", store, "create", "base", "16M").exit()).isZero();
        assertThat(apiary("store", "--dir", store, "snapshot", "base@s").exit()).isZero();
        assertThat(apiary("store", "--dir", store, "clone", "base@s", "c1").exit()).isZero();
        Tools.Result rm = apiary("store", "--dir", store, "rm", "base@s");
        assertThat(rm.exit()).isEqualTo(2);
        assertThat(rm.err().strip()).isEqualTo("apiary store: snapshot base@s has clones that depend on it: c1");
        Tools.Result missing = apiary("store", "--dir", store, "clone", "base@nope", "c2");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("snapshot base@nope does not exist");
        Tools.Result shrink = apiary("store", "--dir", store, "resize", "c1", "8M");
        assertThat(shrink.err()).contains("shrinking");
        Tools.Result grow = apiary("store", "--dir", store, "resize", "c1", "32M");
        assertThat(grow.exit()).as(grow.all()).isZero();
        assertThat(apiary("store", "--dir", store, "ls").out()).containsPattern("c1\\s+32.0 MiB\\s+base@s");
        assertThat(apiary("store", "--dir", store, "flatten", "c1").exit()).isZero();
        assertThat(apiary("store", "--dir", store, "rm", "base@s").exit()).as("no clone depends on it now").isZero();
    }
}
