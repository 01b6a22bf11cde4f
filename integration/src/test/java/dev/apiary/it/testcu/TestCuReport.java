package dev.apiary.it.testcu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Summary of a libiscsi {@code iscsi-test-cu} log (CUnit verbose output).
 *
 * <p>CUnit reports skipped tests as passed; libiscsi only logs a {@code [SKIPPED] reason}
 * line. A test counts as skipped here when such a line appears between its
 * {@code "  Test: Name ..."} line and its result ({@code passed}/{@code FAILED}, either
 * directly after the {@code ...} or at the start of a later line). Suite teardown output
 * can follow the result on the same line ({@code "...passed    [FAILED] PRIN command..."});
 * everything after a result is ignored. A test with no result (run cut short) counts as
 * failed and makes {@link #complete()} false.
 *
 * <p>Names are qualified with the family as listed by {@code iscsi-test-cu -l} (so they
 * can be passed to {@code -t}): suites starting with {@code iSCSI} are family
 * {@code iSCSI}, all others {@code SCSI}, e.g. {@code SCSI.Read10.BeyondEol}.
 */
public final class TestCuReport {

    public enum Outcome { PASSED, FAILED, SKIPPED }

    /** Counts of one suite; {@code suite} is qualified, e.g. {@code SCSI.Read10}. */
    public record SuiteCounts(String suite, int passed, int failed, int skipped) {
        public int total() {
            return passed + failed + skipped;
        }
    }

    private static final String SUITE = "Suite: ";
    private static final String TEST = "  Test: ";
    private static final String SKIP = "[SKIPPED]";
    private static final Pattern CUNIT_TESTS =
            Pattern.compile("^\\s+tests\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+\\d+\\s*$");

    private final Map<String, Outcome> outcomes;          // qualified test -> outcome, log order
    private final Map<String, String> skipReasons;        // qualified test -> first reason
    private final List<SuiteCounts> suites;
    private final boolean complete;
    private final int cunitRun;
    private final int cunitPassed;
    private final int cunitFailed;

    private TestCuReport(Map<String, Outcome> outcomes, Map<String, String> skipReasons,
            List<String> suiteOrder, boolean complete, int[] cunit) {
        this.outcomes = Collections.unmodifiableMap(outcomes);
        this.skipReasons = Collections.unmodifiableMap(skipReasons);
        this.complete = complete;
        this.cunitRun = cunit[0];
        this.cunitPassed = cunit[1];
        this.cunitFailed = cunit[2];
        List<SuiteCounts> list = new ArrayList<>();
        for (String suite : suiteOrder) {
            int[] n = new int[3];
            outcomes.forEach((test, outcome) -> {
                if (test.startsWith(suite + ".")) {
                    n[outcome.ordinal()]++;
                }
            });
            list.add(new SuiteCounts(suite, n[0], n[1], n[2]));
        }
        this.suites = List.copyOf(list);
    }

    /** Parses the complete stdout+stderr of one {@code iscsi-test-cu} run. */
    public static TestCuReport parse(String log) {
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        Map<String, String> skipReasons = new LinkedHashMap<>();
        List<String> suiteOrder = new ArrayList<>();
        int[] cunit = {-1, -1, -1};
        String suite = "?";
        String test = null;         // qualified name of the test awaiting its result
        String skipReason = null;

        for (String line : log.split("\\R", -1)) {
            if (line.startsWith(SUITE)) {
                if (test != null) {
                    outcomes.put(test, Outcome.FAILED);
                    test = null;
                }
                suite = qualify(line.substring(SUITE.length()).strip());
                if (!suiteOrder.contains(suite)) {
                    suiteOrder.add(suite);
                }
                continue;
            }
            String rest;
            int dots = line.indexOf(" ...");
            if (line.startsWith(TEST) && dots > TEST.length()) {
                if (test != null) {
                    outcomes.put(test, Outcome.FAILED);
                }
                test = suite + "." + line.substring(TEST.length(), dots);
                skipReason = null;
                rest = line.substring(dots + 4);
            } else if (test != null) {
                rest = line;
            } else {
                Matcher m = CUNIT_TESTS.matcher(line);
                if (m.matches()) {
                    cunit = new int[] {Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                            Integer.parseInt(m.group(4))};
                }
                continue;
            }
            if (rest.startsWith("passed") || rest.startsWith("FAILED")) {
                Outcome o = rest.startsWith("FAILED") ? Outcome.FAILED
                        : skipReason != null ? Outcome.SKIPPED : Outcome.PASSED;
                outcomes.put(test, o);
                if (o == Outcome.SKIPPED) {
                    skipReasons.put(test, skipReason);
                }
                test = null;
            } else if (skipReason == null && rest.contains(SKIP)) {
                skipReason = rest.substring(rest.indexOf(SKIP) + SKIP.length()).strip();
            }
        }
        boolean complete = test == null && cunit[0] >= 0;
        if (test != null) {
            outcomes.put(test, Outcome.FAILED);
        }
        return new TestCuReport(outcomes, skipReasons, suiteOrder, complete, cunit);
    }

    private static String qualify(String suite) {
        return (suite.startsWith("iSCSI") ? "iSCSI." : "SCSI.") + suite;
    }

    /** Suites in log order. */
    public List<SuiteCounts> suites() {
        return suites;
    }

    /** A suite by qualified ({@code SCSI.Read10}) or bare ({@code Read10}) name. */
    public Optional<SuiteCounts> suite(String name) {
        return suites.stream()
                .filter(s -> s.suite().equals(name) || s.suite().endsWith("." + name))
                .findFirst();
    }

    /** Every test with its outcome, in log order. */
    public Map<String, Outcome> outcomes() {
        return outcomes;
    }

    /** Skipped test -> the first {@code [SKIPPED]} reason logged for it. */
    public Map<String, String> skipReasons() {
        return skipReasons;
    }

    public List<String> failedTests() {
        return testsWith(Outcome.FAILED);
    }

    public List<String> skippedTests() {
        return testsWith(Outcome.SKIPPED);
    }

    private List<String> testsWith(Outcome outcome) {
        return outcomes.entrySet().stream().filter(e -> e.getValue() == outcome)
                .map(Map.Entry::getKey).toList();
    }

    public int passed() {
        return count(Outcome.PASSED);
    }

    public int failed() {
        return count(Outcome.FAILED);
    }

    public int skipped() {
        return count(Outcome.SKIPPED);
    }

    public int total() {
        return outcomes.size();
    }

    private int count(Outcome outcome) {
        return (int) outcomes.values().stream().filter(o -> o == outcome).count();
    }

    /** True if the CUnit "Run Summary" was found and no test was left without a result. */
    public boolean complete() {
        return complete;
    }

    /** CUnit's own "tests ... Ran" figure, if the summary was found. */
    public OptionalInt cunitRun() {
        return cunitRun < 0 ? OptionalInt.empty() : OptionalInt.of(cunitRun);
    }

    /** CUnit's own "Passed" figure (skips included), if the summary was found. */
    public OptionalInt cunitPassed() {
        return cunitPassed < 0 ? OptionalInt.empty() : OptionalInt.of(cunitPassed);
    }

    /** CUnit's own "Failed" figure, if the summary was found. */
    public OptionalInt cunitFailed() {
        return cunitFailed < 0 ? OptionalInt.empty() : OptionalInt.of(cunitFailed);
    }

    /** {@code "N passed, N failed, N skipped"}, as printed by integration/bench/conformance.sh. */
    public String totalsLine() {
        return passed() + " passed, " + failed() + " failed, " + skipped() + " skipped";
    }

    /** Per-suite table, the failed and skipped tests, and the totals line. */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| suite | passed | failed | skipped |\n|---|---:|---:|---:|\n");
        for (SuiteCounts s : suites) {
            sb.append("| ").append(s.suite()).append(" | ").append(s.passed()).append(" | ")
                    .append(s.failed()).append(" | ").append(s.skipped()).append(" |\n");
        }
        appendList(sb, "Failed", failedTests());
        appendList(sb, "Skipped", skippedTests());
        sb.append('\n');
        if (!complete) {
            sb.append("(incomplete run: no CUnit summary or a test without result)\n");
        }
        return sb.append(totalsLine()).append('\n').toString();
    }

    private static void appendList(StringBuilder sb, String title, List<String> tests) {
        if (!tests.isEmpty()) {
            sb.append('\n').append(title).append(":\n");
            tests.forEach(t -> sb.append("- ").append(t).append('\n'));
        }
    }

    @Override
    public String toString() {
        return "TestCuReport[" + totalsLine() + (complete ? "" : ", incomplete") + "]";
    }
}
