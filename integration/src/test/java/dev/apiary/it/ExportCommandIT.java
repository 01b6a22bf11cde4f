package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code apiary export} as a user and a script meet it: its output, its errors, its shutdown. */
class ExportCommandIT {
    @TempDir
    Path dir;

    @Test
    void createsSparseFilesAndPrintsOneReadyLinePerLun() throws Exception {
        int port = Tools.freePort();
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        try (ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + port, "--iqn", "iqn.2026-11.dev.apiary:two",
                "--size", "2G", "--chap", "u1:secretsecret12", a.toString(), b.toString()).awaitReady(2)) {
            assertThat(e.urls).containsExactly(
                    "iscsi://127.0.0.1:" + port + "/iqn.2026-11.dev.apiary:two/0",
                    "iscsi://127.0.0.1:" + port + "/iqn.2026-11.dev.apiary:two/1");
            assertThat(Files.size(a)).isEqualTo(2L << 30);
            Tools.Result du = Tools.run(Duration.ofSeconds(10), "du", "--block-size=1", a.toString());
            long allocated = Long.parseLong(du.out().split("\\s+")[0]);
            assertThat(allocated).as("allocated bytes of a new 2 GiB image").isLessThan(1 << 20);
            Tools.Result ls = Tools.run(Duration.ofSeconds(60), "iscsi-ls", "-s", "iscsi://u1%secretsecret12@127.0.0.1:" + port);
            assertThat(ls.out()).contains("Lun:0").contains("Lun:1");
            Tools.Result rc = Tools.run(Duration.ofSeconds(60), "iscsi-readcapacity16",
                    e.url("u1", "secretsecret12", 1));
            assertThat(rc.out()).contains("Total size:" + (2L << 30)).contains("LOGICAL BLOCK LENGTH IN BYTES:512");
        }
    }

    @Test
    void refusesABusyPortByNameWithoutFallingBack() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + port, "--size", "1M",
                    "--chap", "u1:secretsecret12", dir.resolve("x.img").toString());
            assertThat(e.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(e.process.exitValue()).isEqualTo(2);
            assertThat(Files.readString(e.log)).contains("cannot listen on 127.0.0.1:" + port).contains("already in use");
            assertThat(e.nextLine(1)).as("no ready line").isNull();
        }
    }

    @Test
    void missingFileWithoutSizeIsAClearError() throws Exception {
        ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + Tools.freePort(), "--chap", "u1:secretsecret12",
                dir.resolve("missing.img").toString());
        assertThat(e.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(e.process.exitValue()).isEqualTo(2);
        assertThat(Files.readString(e.log)).contains("missing.img").contains("no size");
    }

    @Test
    void shortChapSecretIsRefused() throws Exception {
        ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + Tools.freePort(), "--size", "1M",
                "--chap", "u1:short", dir.resolve("s.img").toString());
        assertThat(e.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(e.process.exitValue()).isEqualTo(2);
        assertThat(Files.readString(e.log)).contains("--chap");
    }

    @Test
    void malformedRbdImageNamesAreRefusedBeforeAnyClusterIsAsked() throws Exception {
        for (String spec : new String[] {"rbd:pool", "rbd:/image", "rbd:pool/", "rbd:pool//image", "rbd:a/b/c/d"}) {
            ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + Tools.freePort(), "--chap",
                    "u1:secretsecret12", "--ceph-conf", dir.resolve("no-such-ceph.conf").toString(), spec);
            assertThat(e.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as(spec).isTrue();
            assertThat(e.process.exitValue()).as(spec).isEqualTo(2);
            assertThat(Files.readString(e.log)).as(spec).contains(spec + ": expected rbd:POOL/IMAGE");
        }
    }

    @Test
    void writesThroughIscsiAreInTheFileAfterSigterm() throws Exception {
        int port = Tools.freePort();
        Path img = dir.resolve("w.img");
        ExportProcess e = ExportProcess.start("--portal", "127.0.0.1:" + port, "--size", "16M",
                "--chap", "u1:secretsecret12", img.toString()).awaitReady(1);
        try {
            Tools.Result w = Tools.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", "-c", "write -P 0xab 1M 64k",
                    e.url("u1", "secretsecret12", 0));
            assertThat(w.exit()).as(w.all()).isZero();
        } finally {
            e.stop();
        }
        assertThat(Files.readString(e.log)).doesNotContain("secretsecret12");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
            byte[] b = new byte[64 << 10];
            f.seek(1 << 20);
            f.readFully(b);
            for (byte x : b) {
                assertThat(x).isEqualTo((byte) 0xab);
            }
        }
    }
}
