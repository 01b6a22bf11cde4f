#!/usr/bin/env bash
# tgt.sh - run a reference tgt (Linux SCSI target daemon) on loopback.
#
# Usage:
#   tgt.sh start FILE [PORT]    export FILE as LUN 1, one-way CHAP, on 127.0.0.1:PORT
#   tgt.sh stop [PORT]          delete the target, shut tgtd down, SIGKILL by PID if needed
#   tgt.sh status [PORT]
#
# Environment (defaults in brackets):
#   TGT_PORT    iSCSI portal port, also used as the tgtd control port    [3270]
#   TGT_USER    CHAP user name                                            [apiary]
#   TGT_SECRET  CHAP secret                                               [apiarysecret1]
#   TGT_IQN     target name                    [iqn.2026-11.dev.apiary:tgt-PORT]
#   TGT_SIZE    if FILE does not exist, create it zero-filled (not sparse)
#               with this many MiB                                        [unset]
#   TGT_RUNDIR  where the pidfile and tgtd log go                         [/run/apiary-bench]
#   TGT_BSTYPE  tgt's backing store: rdwr, or rbd (Debian tgt-rbd; FILE is then POOL/IMAGE) [rdwr]
#   TGT_BSOPTS  its --bsopts, e.g. "conf=/etc/ceph/ceph.conf;id=admin"     [unset]
#
# LUN 0 is tgt's own controller LUN; the disk is LUN 1 (backing store rdwr).
# The last two lines printed by "start" are:
#   PID <tgtd pid>
#   URL iscsi://USER%SECRET@127.0.0.1:PORT/IQN/1
set -euo pipefail

die() { echo "tgt.sh: $*" >&2; exit 1; }

cmd=${1:-}
[[ -n $cmd ]] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
shift

if [[ $cmd == start ]]; then
    file=${1:-${TGT_FILE:-}}
    port=${2:-${TGT_PORT:-3270}}
else
    port=${1:-${TGT_PORT:-3270}}
fi
[[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
ctl=$port
user=${TGT_USER:-apiary}
secret=${TGT_SECRET:-apiarysecret1}
iqn=${TGT_IQN:-iqn.2026-11.dev.apiary:tgt-$port}
rundir=${TGT_RUNDIR:-/run/apiary-bench}
pidfile=$rundir/tgtd-$port.pid
logfile=$rundir/tgtd-$port.log

adm() { tgtadm -C "$ctl" --lld iscsi "$@"; }

# PID from the pidfile, only if that process is still a tgtd.
live_pid() {
    local pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ -r /proc/$pid/comm && $(</proc/"$pid"/comm) == tgtd ]] || return 1
    echo "$pid"
}

# Every address:port the process listens on, one per line.
listen_addrs() { ss -ltnpH | awk -v p="pid=$1," 'index($0, p) { print $4 }' | sort -u; }

stop() {
    local pid i
    pid=$(live_pid) || { rm -f "$pidfile"; echo "tgt.sh: no tgtd for port $port"; return 0; }
    adm --mode target --op delete --tid 1 --force >/dev/null 2>&1 || true
    adm --mode system --op delete >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do
        [[ -d /proc/$pid ]] || break
        sleep 0.1
    done
    if live_pid >/dev/null; then
        echo "tgt.sh: tgtd $pid did not exit, sending SIGKILL" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo "tgt.sh: stopped tgtd $pid (port $port)"
}

start() {
    local pid i addrs
    [[ -n $file ]] || die "start needs FILE"
    local bstype=${TGT_BSTYPE:-rdwr} size
    if [[ $bstype != rdwr ]]; then
        : # an RBD image spec, not a path
    elif [[ ! -e $file ]]; then
        [[ -n ${TGT_SIZE:-} ]] || die "$file does not exist (set TGT_SIZE=MiB to create it)"
        dd if=/dev/zero of="$file" bs=1M count="$TGT_SIZE" status=none
    fi
    [[ $bstype != rdwr ]] || file=$(realpath "$file")
    live_pid >/dev/null && die "tgtd already running for port $port (pid $(live_pid))"
    [[ -z $(ss -ltnH "sport = :$port") ]] || die "port $port is already in use"
    mkdir -p "$rundir"

    # env -u CEPH_ARGS: tgt-rbd takes its Ceph settings from --bsopts only
    setsid env -u CEPH_ARGS tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" </dev/null >"$logfile" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"

    # Wait (bounded: 10 s) until it listens, then insist on exactly 127.0.0.1:port.
    addrs=
    for ((i = 0; i < 100; i++)); do
        [[ -d /proc/$pid ]] || { cat "$logfile" >&2; rm -f "$pidfile"; die "tgtd exited"; }
        addrs=$(listen_addrs "$pid")
        [[ -n $addrs ]] && adm --mode target --op show >/dev/null 2>&1 && break
        sleep 0.1
    done
    if [[ $addrs != "127.0.0.1:$port" ]]; then
        echo "tgt.sh: tgtd $pid listens on [${addrs//$'\n'/ }], expected 127.0.0.1:$port; aborting" >&2
        stop >&2
        exit 1
    fi

    adm --mode target --op new --tid 1 --targetname "$iqn"
    adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$file" --bstype "$bstype" \
        ${TGT_BSOPTS:+--bsopts "$TGT_BSOPTS"}
    adm --mode target --op bind --tid 1 --initiator-address ALL
    adm --mode account --op new --user "$user" --password "$secret"
    adm --mode account --op bind --tid 1 --user "$user"

    size=$([[ $bstype == rdwr ]] && stat -c %s "$file" || echo "$bstype")
    echo "tgt.sh: tgtd pid $pid on 127.0.0.1:$port, LUN 1 = $file ($size bytes), log $logfile"
    echo "PID $pid"
    echo "URL iscsi://$user%$secret@127.0.0.1:$port/$iqn/1"
}

case $cmd in
    start) start ;;
    stop) stop ;;
    status)
        if pid=$(live_pid); then echo "tgtd $pid: $(listen_addrs "$pid" | tr '\n' ' ')"; else echo "not running"; exit 1; fi ;;
    *) die "unknown command: $cmd (start|stop|status)" ;;
esac
