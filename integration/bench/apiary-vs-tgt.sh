#!/usr/bin/env bash
# apiary-vs-tgt.sh - the target benchmark of docs/benchmarks.md: Apiary and tgt serve the SAME
# tmpfs-backed file on loopback, and run-bench.sh alternates them phase by phase (A,B,A,B...).
#
# Usage: apiary-vs-tgt.sh [--secs 10] [--rounds 3] [--size-mib 1024] [--phases "..."]
# Prints run-bench.sh's tables; ratios are Apiary/tgt of the medians. Stops both targets by PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=10 rounds=3 size=1024 phases=
while [[ $# -gt 0 ]]; do
    case $1 in
        --secs) secs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --size-mib) size=$2; shift 2 ;;
        --phases) phases=$2; shift 2 ;;
        *) echo "usage: $0 [--secs N] [--rounds N] [--size-mib N] [--phases \"...\"]" >&2; exit 2 ;;
    esac
done
img=/dev/shm/apiary-vs-tgt.img
user=bench secret=benchsecret12
apiary_port=3263 tgt_port=3273
apiary_pid=
cleanup() {
    [ -n "$apiary_pid" ] && kill "$apiary_pid" 2>/dev/null && wait "$apiary_pid" 2>/dev/null || true
    TGT_PORT=$tgt_port "$here/tgt.sh" stop "$tgt_port" >/dev/null 2>&1 || true
    rm -f "$img"
}
trap cleanup EXIT
rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count="$size" status=none   # fully provisioned, as tgt's baseline

"$root/apiary" --version >/dev/null   # builds the jar first if needed
source "$root/scripts/find-jdk.sh"
out=$(mktemp)
"$JAVA_HOME/bin/java" ${APIARY_JAVA_OPTS:-} -jar "$root/admin-api/target/apiary.jar" export \
    --portal 127.0.0.1:$apiary_port --chap $user:$secret "$img" >"$out" 2>/dev/null &
apiary_pid=$!
for _ in $(seq 120); do grep -q '^ready ' "$out" && break; sleep 0.5; done
grep -q '^ready ' "$out" || { echo "apiary export did not start" >&2; exit 1; }
apiary_url=$(sed -n 's|^ready iscsi://|iscsi://'"$user%$secret"'@|p' "$out" | head -1)

tgt_out=$(TGT_PORT=$tgt_port TGT_USER=$user TGT_SECRET=$secret "$here/tgt.sh" start "$img" "$tgt_port")
tgt_pid=$(sed -n 's/^PID //p' <<<"$tgt_out")
tgt_url=$(sed -n 's/^URL //p' <<<"$tgt_out")

args=(--a "apiary=$apiary_url@$apiary_pid" --b "tgt=$tgt_url@$tgt_pid" --secs "$secs" --rounds "$rounds")
[ -n "$phases" ] && args+=(--phases "$phases")
echo "# $(date -u +%FT%TZ) $(nproc) cores; file $img (${size} MiB, tmpfs); secs=$secs rounds=$rounds"
"$here/run-bench.sh" "${args[@]}"
