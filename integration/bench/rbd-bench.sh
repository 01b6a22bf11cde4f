#!/usr/bin/env bash
# rbd-bench.sh - issue 7's benchmark: 4 KiB random read and write at queue depth 32 on an
# RBD-backed LUN, Apiary (`apiary export rbd:rbd/IMAGE`) against tgt's rbd backing store (Debian
# tgt-rbd) on the same image, with raw `rbd bench` as the limit; and the time to clone a worker's
# root from a golden RBD snapshot.
#
# Usage: rbd-bench.sh [--secs 10] [--rounds 3] [--size 1G] [--warmup 0]
#
# Starts its own cluster (integration/ceph/up.sh --fresh, data in /tmp/apiary-ceph-bench, all on
# 127.0.0.1) and stops and wipes it at exit; fills the image once with 4 MiB writes so reads hit
# objects; then run-bench.sh alternates A, B, A, B, ... per phase (their target CPU from /proc).
# Both targets have the image open at once; only one writes at a time, so librbd's exclusive lock
# moves once per write run. Needs root, the packages of scripts/install-test-deps.sh, ./apiary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=10 rounds=3 size=1G warmup=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --secs) secs=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --size) size=${2:?}; shift 2 ;;
        --warmup) warmup=${2:?}; shift 2 ;;
        *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
    esac
done
note() { echo "rbd-bench.sh: $(date +%T) $*" >&2; }

export APIARY_CEPH_DIR=/tmp/apiary-ceph-bench
apiary_pid= tgt_port=3271 apiary_port=3272
cleanup() {
    [[ -n $apiary_pid ]] && kill "$apiary_pid" 2>/dev/null && wait "$apiary_pid" 2>/dev/null || true
    TGT_RUNDIR=/tmp/apiary-rbd-bench "$here/tgt.sh" stop "$tgt_port" >/dev/null 2>&1 || true
    "$root/integration/ceph/down.sh" --wipe >/dev/null 2>&1 || true
}
trap cleanup EXIT
up=$("$root/integration/ceph/up.sh" --fresh)
conf=$(sed -n 's/^CEPH_CONF=//p' <<<"$up")
keyring=$(sed -n 's/^CEPH_KEYRING=//p' <<<"$up")
note "$(tail -n 1 <<<"$up")"
rbd_() { env -u CEPH_ARGS rbd -c "$conf" -k "$keyring" --id admin "$@"; }

rbd_ create --size "$size" rbd/bench
note "filling rbd/bench ($size)"
rbd_ bench --io-type write --io-size 4M --io-threads 8 --io-pattern seq --io-total "$size" rbd/bench >/dev/null

# rbd bench with the conf's librbd cache (on by default) and with it off, as Apiary runs: a write
# acknowledged only when it is on every replica.
note "raw rbd bench, the limit"
raw=()
for cache in true false; do
    for io in read write; do
        out=$(rbd_ bench --rbd_cache="$cache" --io-type "$io" --io-size 4K --io-threads 32 --io-pattern rand \
            --io-total 100M rbd/bench)
        raw+=("$io(rbd_cache=$cache) $(awk '/^elapsed:/ { for (i = 1; i < NF; i++) if ($i == "ops/sec:") print "ops/s=" int($(i + 1)) }' <<<"$out")")
    done
done

"$root/apiary" export --portal "127.0.0.1:$apiary_port" --chap bench:secretsecret12 --ceph-conf "$conf" \
    --ceph-keyring "$keyring" --iqn iqn.2026-11.dev.apiary:rbd-bench rbd:rbd/bench >/tmp/apiary-rbd-bench.out 2>&1 &
apiary_pid=$!
for _ in $(seq 1 300); do grep -q '^ready ' /tmp/apiary-rbd-bench.out 2>/dev/null && break; sleep 0.1; done
grep -q '^ready ' /tmp/apiary-rbd-bench.out || { cat /tmp/apiary-rbd-bench.out >&2; exit 1; }
tgt_out=$(TGT_RUNDIR=/tmp/apiary-rbd-bench TGT_BSTYPE=rbd TGT_BSOPTS="conf=$conf;id=admin" TGT_USER=bench \
    TGT_SECRET=secretsecret12 "$here/tgt.sh" start rbd/bench "$tgt_port")
tgt_pid=$(sed -n 's/^PID //p' <<<"$tgt_out")
tgt_url=$(sed -n 's/^URL //p' <<<"$tgt_out")
a_url="iscsi://bench%secretsecret12@127.0.0.1:$apiary_port/iqn.2026-11.dev.apiary:rbd-bench/0"

"$here/run-bench.sh" --a "apiary=$a_url@$apiary_pid" --b "tgt-rbd=$tgt_url@$tgt_pid" --secs "$secs" \
    --rounds "$rounds" --phases "randread4k-qd32 randwrite4k-qd32" --no-prefill --warmup "$warmup"

note "clone time"
rbd_ snap create rbd/bench@golden
rbd_ snap protect rbd/bench@golden
t0=$(date +%s.%N)
for i in $(seq 1 10); do rbd_ clone rbd/bench@golden "rbd/w$i"; done
t1=$(date +%s.%N)
echo
echo "raw rbd bench (4 KiB random, 32 threads, 100 MiB): ${raw[*]}"
echo "10 x rbd clone (CLI, one process each): $(echo "$t1 - $t0" | bc) s"
