package dev.apiary.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.it.testcu.TestCuReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libiscsi's conformance suite, the one the iSCSI world uses, against {@code apiary export} with
 * CHAP: family ALL, write tests on (-d), two URLs so the multipath suites run. The bar is no
 * failure and more passes than tgt 1.0.85 on this machine (162 passed, 9 failed, 59 skipped).
 */
class ConformanceIT {
    static final int TGT_PASSED = 162;

    @TempDir
    Path dir;

    @Test
    void iscsiTestCuAllPassesWithNoFailureAndBeatsTgt() throws Exception {
        int port = Tools.freePort();
        try (ExportProcess export = ExportProcess.start("--portal", "127.0.0.1:" + port, "--size", "1G",
                        "--chap", "conformance:secretsecret12", dir.resolve("lun0.img").toString())
                .awaitReady(1)) {
            check(export, "conformance");
        }
    }

    /** The same suite against a copy-on-write clone of a store snapshot, the LUN a worker boots from. */
    @Test
    void aStoreCloneIsJustAsConformant() throws Exception {
        String store = dir.resolve("store").toString();
        assertThat(StoreIT.apiary("store", "--dir", store, "create", "golden", "1G").exit()).isZero();
        assertThat(StoreIT.apiary("store", "--dir", store, "snapshot", "golden@v1").exit()).isZero();
        assertThat(StoreIT.apiary("store", "--dir", store, "clone", "golden@v1", "w1").exit()).isZero();
        int port = Tools.freePort();
        try (ExportProcess export = ExportProcess.start("--portal", "127.0.0.1:" + port, "--chap",
                "conformance:secretsecret12", "--store", store, "vol:w1").awaitReady(1)) {
            check(export, "conformance-clone");
        }
    }

    static void check(ExportProcess export, String name) throws Exception {
        {
            String url = export.url("conformance", "secretsecret12", 0);
            Tools.Result r = Tools.run(Duration.ofMinutes(10), "iscsi-test-cu", "-d", "-t", "ALL", url, url);
            TestCuReport report = TestCuReport.parse(r.out() + r.err());
            Path out = Paths.get("target", name + ".md");
            Files.writeString(out, report.toMarkdown() + "\n" + report.totalsLine() + "\n");
            Files.writeString(Paths.get("target", name + ".log"), r.out() + r.err());
            System.out.println("iscsi-test-cu (" + name + "): " + report.totalsLine() + " (table in " + out.toAbsolutePath() + ")");

            assertThat(report.complete()).as("the run reached CUnit's summary").isTrue();
            assertThat(report.failedTests()).as("failed tests").isEmpty();
            assertThat(report.passed()).as("tests passed (tgt: %d)", TGT_PASSED).isGreaterThan(TGT_PASSED);
        }
    }
}
