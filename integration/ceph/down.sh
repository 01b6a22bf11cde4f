#!/usr/bin/env bash
# down.sh - stops the cluster up.sh started: only the PIDs in $APIARY_CEPH_DIR/run/*.pid, and only
# after /proc/PID/comm says it is a ceph-* daemon (a stale pid file may name a reused PID).
# OSDs first, then the mgr, then the mon; SIGTERM, SIGKILL after 5 s.
#
# Usage: down.sh [--wipe]     --wipe also deletes the data directory.
set -euo pipefail

D=${APIARY_CEPH_DIR:-/tmp/apiary-ceph}
wipe=0
case ${1:-} in
  --wipe) wipe=1 ;;
  "") ;;
  *) echo "usage: down.sh [--wipe]" >&2; exit 2 ;;
esac

ours() { # a running ceph-* process (a zombie, state Z, is already dead)
  local stat
  [[ $1 =~ ^[0-9]+$ && -r /proc/$1/comm && $(</proc/"$1"/comm) == ceph-* ]] || return 1
  stat=$(</proc/"$1"/stat) 2>/dev/null || return 1
  [[ ${stat##*) } != Z* ]]
}

stop_group() { # pid files... : TERM all, wait up to 5 s, KILL what is left
  local f pid pids=() i
  for f in "$@"; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    if ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$f"
  done
  for ((i = 0; i < 50; i++)); do
    local left=()
    for pid in "${pids[@]}"; do ours "$pid" && left+=("$pid"); done
    pids=("${left[@]}")
    ((${#pids[@]} == 0)) && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    echo "down.sh: $pid ($(</proc/"$pid"/comm)) ignored SIGTERM; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
}

if [[ -d $D/run ]]; then
  shopt -s nullglob
  stop_group "$D"/run/osd.*.pid
  stop_group "$D"/run/mgr.*.pid
  stop_group "$D"/run/mon.*.pid
fi
echo "down.sh: stopped the cluster in $D" >&2

if ((wipe)) && [[ -d $D ]]; then
  # Only a directory that looks like ours: never an unrelated path from a mistyped variable.
  if [[ -f $D/ceph.conf || -z $(ls -A "$D") ]]; then
    rm -rf "$D"
    echo "down.sh: wiped $D" >&2
  else
    echo "down.sh: $D has no ceph.conf; not wiping it" >&2
    exit 1
  fi
fi
