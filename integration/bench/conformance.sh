#!/usr/bin/env bash
# conformance.sh - run libiscsi's iscsi-test-cu against a target and summarise it.
#
# Usage: conformance.sh URL [URL2] [LOGFILE]
#   URL      iscsi://USER%SECRET@127.0.0.1:PORT/IQN/LUN
#   URL2     second path for the MultipathIO tests; defaults to URL, "-" = single path
#   LOGFILE  where the raw iscsi-test-cu log goes [/tmp/iscsi-test-cu-<time>.log]
# Environment: TESTCU_TESTS (the -t argument) [ALL], TESTCU_TIMEOUT (s) [600]
#
# Runs `iscsi-test-cu -d -t ALL URL URL2` (-d: allow the destructive write tests!)
# and prints to stdout a markdown table (suite | passed | failed | skipped), the
# names of failed and skipped tests, and a totals line "N passed, N failed, N skipped".
# CUnit counts skipped tests as passed; here a test is "skipped" when a [SKIPPED]
# line appears between its "Test: X ..." and its result. Text on the same line after
# "...passed"/"...FAILED" is the previous test's teardown output and is ignored.
# Test names are FAMILY.Suite.Test (usable with -t), as in `iscsi-test-cu -l`.
# Exit: 0 no failures, 1 failed tests, 2 run did not complete (timeout/crash/usage).
set -euo pipefail

[[ $# -ge 1 && $1 == iscsi://* ]] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
url=$1
url2=$url
if [[ $# -ge 2 && ($2 == iscsi://* || $2 == -) ]]; then
    url2=$2
    shift
fi
log=${2:-/tmp/iscsi-test-cu-$(date +%Y%m%d-%H%M%S).log}
urls=("$url")
[[ $url2 == - ]] || urls+=("$url2")

echo "conformance.sh: iscsi-test-cu -d -t ${TESTCU_TESTS:-ALL} (${#urls[@]} path(s)), log $log" >&2
rc=0
timeout "${TESTCU_TIMEOUT:-600}" iscsi-test-cu -d -t "${TESTCU_TESTS:-ALL}" "${urls[@]}" >"$log" 2>&1 || rc=$?
[[ $rc -ne 124 ]] || echo "conformance.sh: iscsi-test-cu timed out" >&2

awk -v rc="$rc" '
function family(s) { return s ~ /^iSCSI/ ? "iSCSI" : "SCSI" }
function finish(res) {
    if (res == "passed" && skipped) res = "skipped"
    count[suite, res]++
    total[res]++
    if (res != "passed") list[res] = list[res] "\n- " family(suite) "." suite "." test
    pending = 0
}
/^Suite: / {
    if (pending) finish("failed")
    suite = substr($0, 8); sub(/[ \t\r]+$/, "", suite)
    suites[++nsuites] = suite
    next
}
/^  Test: .* \.\.\./ {
    if (pending) finish("failed")
    i = index($0, " ...")
    test = substr($0, 9, i - 9); rest = substr($0, i + 4)
    pending = 1; skipped = 0
    if (rest ~ /^passed/) finish("passed")
    else if (rest ~ /^FAILED/) finish("failed")
    else if (rest ~ /\[SKIPPED\]/) skipped = 1
    next
}
pending && /^passed/ { finish("passed"); next }
pending && /^FAILED/ { finish("failed"); next }
pending && /\[SKIPPED\]/ { skipped = 1; next }
/^ +tests +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+/ { cu_ran = $3; cu_passed = $4; cu_failed = $5; summary = 1 }
END {
    if (pending) finish("failed")   # run died inside a test
    print "| suite | passed | failed | skipped |"
    print "|---|---:|---:|---:|"
    for (k = 1; k <= nsuites; k++) {
        s = suites[k]
        printf "| %s.%s | %d | %d | %d |\n", family(s), s, count[s, "passed"], count[s, "failed"], count[s, "skipped"]
    }
    if (list["failed"] != "") print "\nFailed:" list["failed"]
    if (list["skipped"] != "") print "\nSkipped:" list["skipped"]
    print ""
    if (summary)
        printf "CUnit summary: %d run, %d passed (skips included), %d failed\n", cu_ran, cu_passed, cu_failed
    else
        print "CUnit summary: missing - the run did not complete (exit code " rc ")"
    printf "%d passed, %d failed, %d skipped\n", total["passed"], total["failed"], total["skipped"]
    exit !summary ? 2 : total["failed"] > 0 ? 1 : 0
}' "$log"
