#!/usr/bin/env bash
# run-bench.sh - A/B benchmark of two iSCSI targets with iscsi-bench.
#
# Usage: run-bench.sh --a NAME=URL[@PID] --b NAME=URL[@PID] [--secs 10] [--rounds 3]
#                     [--phases "randread4k-qd32 ..."] [--no-prefill] [--warmup SECS]
#   URL     iscsi://USER%SECRET@127.0.0.1:PORT/IQN/LUN
#   PID     target process; its utime+stime from /proc/PID/stat over each run is
#           reported as cpu% of one core (omit the PID to skip CPU accounting)
#   phases  MODE SIZE -qd DEPTH, MODE in randread|randwrite|seqread|seqwrite,
#           SIZE like 4k or 1m. Default:
#           randread4k-qd32 randwrite4k-qd32 randread4k-qd1 randwrite4k-qd1
#           seqread1m-qd8 seqwrite1m-qd8
#   warmup  one untimed run of SECS per phase and target before its timed rounds,
#           as fio's ramp_time: a server that runs for days is measured warm (a JVM
#           has compiled its data path; a cluster client has its connections open).
#           Default 0: none.
#
# Builds iscsi-bench into integration/bench/target/ when missing or older than the
# source, prefills each LUN once with one sequential 1 MiB write pass, then runs
# every phase as A,B,A,B,... for --rounds rounds of --secs seconds each. Prints a
# markdown summary (medians), the raw runs, the load average before and after, and
# one machine-readable "BENCH phase=..." line per phase. WRITES TO BOTH LUNS.
# Exit: 0 ok, 1 some run failed (its numbers are still shown), 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }

secs=10 rounds=3 prefill=1 warmup=0 spec_a= spec_b=
phases="randread4k-qd32 randwrite4k-qd32 randread4k-qd1 randwrite4k-qd1 seqread1m-qd8 seqwrite1m-qd8"
while [[ $# -gt 0 ]]; do
    case $1 in
        --a) spec_a=${2:?}; shift 2 ;;
        --b) spec_b=${2:?}; shift 2 ;;
        --secs) secs=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --phases) phases=${2:?}; shift 2 ;;
        --no-prefill) prefill=0; shift ;;
        --warmup) warmup=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
[[ -n $spec_a && -n $spec_b && $secs =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $warmup =~ ^[0-9]+$ ]] || usage

declare -A NAME URL PID
parse_spec() { # side spec
    local side=$1 rest=${2#*=}
    [[ $2 == *=iscsi://* ]] || { echo "bad target spec: $2" >&2; usage; }
    NAME[$side]=${2%%=*}
    if [[ $rest =~ ^(.*)@([0-9]+)$ ]]; then
        URL[$side]=${BASH_REMATCH[1]} PID[$side]=${BASH_REMATCH[2]}
        [[ -r /proc/${PID[$side]}/stat ]] || { echo "no process ${PID[$side]}" >&2; exit 2; }
    else
        URL[$side]=$rest PID[$side]=
    fi
}
parse_spec A "$spec_a"
parse_spec B "$spec_b"

bin=$here/target/iscsi-bench
if [[ ! -x $bin || $here/iscsi-bench.c -nt $bin ]]; then
    mkdir -p "$here/target"
    gcc -O2 -Wall -o "$bin" "$here/iscsi-bench.c" -liscsi
fi

hz=$(getconf CLK_TCK)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.tsv # phase side round iops mbps lat_avg p50 p99 errors cpu rc

masked() { sed -E 's#//([^%@/]*)%[^@]*@#//\1%***@#' <<<"$1"; }
cpu_ticks() { # utime+stime of PID (fields 14, 15; skip "pid (comm)" safely)
    [[ -n $1 ]] || return 0
    local stat
    stat=$(<"/proc/$1/stat") || return 0
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}
field() { # key line -> value, "-" if absent
    local v
    v=$(sed -nE "s/.*(^| )$1=([^ ]*).*/\2/p" <<<"$2")
    echo "${v:--}"
}

run_one() { # phase side round mode bs qd
    local line rc=0 t0 t1 c0 c1 cpu=-
    c0=$(cpu_ticks "${PID[$2]}"); t0=$(date +%s.%N)
    line=$(timeout -s KILL $((secs + 60)) "$bin" -m "$4" -b "$5" -q "$6" -t "$secs" "${URL[$2]}") || rc=$?
    t1=$(date +%s.%N); c1=$(cpu_ticks "${PID[$2]}")
    if [[ -n $c0 && -n $c1 ]]; then
        cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
            'BEGIN { printf "%.1f", (b - a) / hz / (t1 - t0) * 100 }')
    fi
    [[ -n $line ]] || line="iops=0 MBps=0 errors=FAIL"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
        "$(field iops "$line")" "$(field MBps "$line")" "$(field lat_avg_us "$line")" \
        "$(field lat_p50_us "$line")" "$(field lat_p99_us "$line")" "$(field errors "$line")" \
        "$cpu" "$rc" >>"$results"
    echo "  $1 ${NAME[$2]} round $3: $line cpu=$cpu rc=$rc" >&2
}

median() { # phase side column format -> median over successful runs, "-" if none
    awk -F'\t' -v p="$1" -v s="$2" -v c="$3" '$1 == p && $2 == s && $11 == "0" && $c ~ /^[0-9.]+$/ { print $c }' "$results" |
        sort -g | awk -v f="$4" '{ v[NR] = $1 } END {
            if (NR == 0) { print "-"; exit }
            printf f "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

load_before=$(uptime)
echo "iscsi-bench: $bin; A=${NAME[A]} B=${NAME[B]}; ${secs}s x $rounds rounds" >&2
if [[ $prefill == 1 ]]; then
    for side in A B; do
        line=$(timeout -s KILL 660 "$bin" -m seqwrite -b 1048576 -q 8 -o -t 600 "${URL[$side]}") ||
            { echo "prefill of ${NAME[$side]} failed" >&2; exit 1; }
        echo "  prefill ${NAME[$side]}: $line" >&2
    done
fi

for phase in $phases; do
    [[ $phase =~ ^(randread|randwrite|seqread|seqwrite)([0-9]+)([kKmM]?)-qd([0-9]+)$ ]] ||
        { echo "bad phase: $phase" >&2; exit 2; }
    mode=${BASH_REMATCH[1]} bs=${BASH_REMATCH[2]} unit=${BASH_REMATCH[3],,} qd=${BASH_REMATCH[4]}
    [[ $unit == k ]] && bs=$((bs * 1024))
    [[ $unit == m ]] && bs=$((bs * 1048576))
    if ((warmup > 0)); then
        for side in A B; do
            line=$(timeout -s KILL $((warmup + 60)) "$bin" -m "$mode" -b "$bs" -q "$qd" -t "$warmup" "${URL[$side]}") ||
                { echo "warm-up of ${NAME[$side]} failed" >&2; exit 1; }
            echo "  $phase ${NAME[$side]} warm-up (untimed): $line" >&2
        done
    fi
    for ((r = 1; r <= rounds; r++)); do
        run_one "$phase" A "$r" "$mode" "$bs" "$qd"
        run_one "$phase" B "$r" "$mode" "$bs" "$qd"
    done
done
load_after=$(uptime)

echo "A = ${NAME[A]} $(masked "${URL[A]}")${PID[A]:+ pid ${PID[A]}}"
echo "B = ${NAME[B]} $(masked "${URL[B]}")${PID[B]:+ pid ${PID[B]}}"
warmed=
((warmup > 0)) && warmed=", after a ${warmup}s untimed warm-up per phase and target"
echo "${secs}s per run, $rounds round(s)$warmed; medians over runs that exited 0; cpu% = target process, % of one core"
echo
echo "| phase | A median IOPS | B median IOPS | A MB/s | B MB/s | ratio A/B | A cpu% | B cpu% |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
machine=()
for phase in $phases; do
    ai=$(median "$phase" A 4 %.0f) bi=$(median "$phase" B 4 %.0f)
    am=$(median "$phase" A 5 %.1f) bm=$(median "$phase" B 5 %.1f)
    ac=$(median "$phase" A 10 %.1f) bc=$(median "$phase" B 10 %.1f)
    ap=$(median "$phase" A 8 %.0f) bp=$(median "$phase" B 8 %.0f)
    ratio=$(awk -v a="$ai" -v b="$bi" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    errs=$(awk -F'\t' -v p="$phase" '$1 == p && ($9 != "0" || $11 != "0") { n++ } END { print n + 0 }' "$results")
    echo "| $phase | $ai | $bi | $am | $bm | $ratio | $ac | $bc |"
    machine+=("BENCH phase=$phase a=${NAME[A]} b=${NAME[B]} a_iops=$ai b_iops=$bi a_mbps=$am b_mbps=$bm ratio=$ratio a_cpu=$ac b_cpu=$bc a_p99_us=$ap b_p99_us=$bp failed_runs=$errs")
done
echo
echo "Raw runs:"
echo
echo "| phase | target | round | IOPS | MB/s | lat avg us | p50 us | p99 us | errors | cpu% | exit |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
while IFS=$'\t' read -r p s r iops mbps avg p50 p99 err cpu rc; do
    echo "| $p | ${NAME[$s]} | $r | $iops | $mbps | $avg | $p50 | $p99 | $err | $cpu | $rc |"
done <"$results"
echo
echo "load before: $load_before"
echo "load after:  $load_after"
echo
printf '%s\n' "${machine[@]}"
if awk -F'\t' '$9 != "0" || $11 != "0" { bad = 1 } END { exit !bad }' "$results"; then
    exit 1
fi
