package dev.apiary.it.testcu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.apiary.it.testcu.TestCuReport.Outcome;
import dev.apiary.it.testcu.TestCuReport.SuiteCounts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parses a real iscsi-test-cu log (libiscsi 1.19, tgt 1.0.85, rdwr 1 GiB zero-filled file,
 * one-way CHAP, same URL twice). Only the 4,000-line assertion list of the last failure was
 * trimmed; CUnit said 230 run, 221 passed (skips included), 9 failed.
 */
class TestCuReportTest {

    private static TestCuReport tgt;

    @BeforeAll
    static void parseSample() throws IOException {
        try (InputStream in = TestCuReportTest.class.getResourceAsStream("/testcu/tgt-sample.log")) {
            assertThat(in).as("test resource testcu/tgt-sample.log").isNotNull();
            tgt = TestCuReport.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void totalsSeparateSkipsFromPasses() {
        assertThat(tgt.passed()).isEqualTo(162);
        assertThat(tgt.failed()).isEqualTo(9);
        assertThat(tgt.skipped()).isEqualTo(59);
        assertThat(tgt.total()).isEqualTo(230);
        assertThat(tgt.totalsLine()).isEqualTo("162 passed, 9 failed, 59 skipped");
    }

    @Test
    void agreesWithCunitSummary() {
        assertThat(tgt.complete()).isTrue();
        assertThat(tgt.cunitRun()).hasValue(230);
        assertThat(tgt.cunitPassed()).hasValue(tgt.passed() + tgt.skipped());
        assertThat(tgt.cunitFailed()).hasValue(tgt.failed());
        assertThat(tgt.suites()).hasSize(51);
    }

    @Test
    void namesFailedTests() {
        assertThat(tgt.failedTests()).containsExactly(
                "SCSI.GetLBAStatus.BeyondEol",
                "SCSI.PrinServiceactionRange.Range",
                "SCSI.ProutReserve.OwnershipEA",
                "SCSI.ProutReserve.OwnershipWE",
                "SCSI.ProutReserve.OwnershipEARO",
                "SCSI.ProutReserve.OwnershipWERO",
                "SCSI.Reserve6.2Initiators",
                "iSCSI.iSCSIdatasn.iSCSIDataSnInvalid",
                "SCSI.MultipathIO.CompareAndWriteAsync");
    }

    @Test
    void namesSkippedTestsWithReason() {
        assertThat(tgt.skippedTests()).hasSize(59)
                .startsWith("SCSI.CompareAndWrite.Simple")
                .contains("SCSI.Inquiry.BlockLimits", "SCSI.Reserve6.TargetColdReset",
                        "SCSI.MultipathIO.CompareAndWrite")
                .doesNotContain("SCSI.Inquiry.Standard");
        assertThat(tgt.skipReasons())
                .containsEntry("SCSI.Sanitize.Reset", "--allow-sanitize flag is not set. Skipping test.")
                .containsEntry("SCSI.Unmap.Simple", "Logical unit is fully provisioned. Skipping test");
    }

    @Test
    void perSuiteCounts() {
        assertThat(tgt.suite("SCSI.CompareAndWrite")).contains(new SuiteCounts("SCSI.CompareAndWrite", 0, 0, 5));
        assertThat(tgt.suite("GetLBAStatus")).contains(new SuiteCounts("SCSI.GetLBAStatus", 1, 1, 1));
        assertThat(tgt.suite("Sanitize")).contains(new SuiteCounts("SCSI.Sanitize", 0, 0, 11));
        assertThat(tgt.suite("iSCSIResiduals")).contains(new SuiteCounts("iSCSI.iSCSIResiduals", 10, 0, 0));
        assertThat(tgt.suite("MultipathIO")).contains(new SuiteCounts("SCSI.MultipathIO", 2, 1, 1));
        assertThat(tgt.suites()).extracting(SuiteCounts::total).allMatch(n -> n > 0);
    }

    @Test
    void teardownTextAfterResultBelongsToNoTest() {
        // "  Test: Residuals ...passed    [FAILED] PRIN command: failed with sense. ..."
        assertThat(tgt.outcomes()).containsEntry("SCSI.ModeSense6.Residuals", Outcome.PASSED);
        assertThat(tgt.suite("NoMedia")).contains(new SuiteCounts("SCSI.NoMedia", 1, 0, 0));
        // "  Test: LUNReset ...passed    [FAILED] ..." followed by a second [FAILED] line
        assertThat(tgt.outcomes()).containsEntry("SCSI.Reserve6.LUNReset", Outcome.PASSED);
        assertThat(tgt.suite("Reserve6")).contains(new SuiteCounts("SCSI.Reserve6", 4, 1, 2));
        assertThat(tgt.outcomes()).containsEntry("SCSI.Sanitize.BlockErase", Outcome.SKIPPED);
    }

    @Test
    void markdownTable() {
        String md = tgt.toMarkdown();
        assertThat(md).startsWith("| suite | passed | failed | skipped |\n|---|---:|---:|---:|\n")
                .contains("| SCSI.Reserve6 | 4 | 1 | 2 |\n", "| iSCSI.iSCSIdatasn | 0 | 1 | 0 |\n",
                        "\nFailed:\n- SCSI.GetLBAStatus.BeyondEol\n")
                .doesNotContain("incomplete")
                .endsWith("\n162 passed, 9 failed, 59 skipped\n");
    }

    @Test
    void truncatedRunAndCrlf() {
        String log = String.join("\r\n",
                "Suite: Read10",
                "  Test: Simple ...passed",
                "  Test: Skipper ...    [SKIPPED] not implemented",
                "FAILED",
                "    1. test_x.c:1  - CU_ASSERT",
                "Suite: iSCSIcmdsn",
                "  Test: Hang ...    sending a command");
        TestCuReport r = TestCuReport.parse(log);
        assertThat(r.outcomes()).containsExactly(
                org.assertj.core.api.Assertions.entry("SCSI.Read10.Simple", Outcome.PASSED),
                org.assertj.core.api.Assertions.entry("SCSI.Read10.Skipper", Outcome.FAILED),
                org.assertj.core.api.Assertions.entry("iSCSI.iSCSIcmdsn.Hang", Outcome.FAILED));
        assertThat(r.complete()).isFalse();
        assertThat(r.cunitRun()).isEmpty();
        assertThat(r.totalsLine()).isEqualTo("1 passed, 2 failed, 0 skipped");
        assertThat(r.toMarkdown()).contains("incomplete run");
    }
}
