#!/usr/bin/env bash
# up.sh - a real Ceph cluster on 127.0.0.1 (or APIARY_CEPH_ADDR) for the RBD store's tests: 1 mon, 1 mgr and 3 bluestore
# OSDs on sparse files, cephx on, pool "rbd" with size 3 / min_size 2.
#
# Usage: up.sh [--fresh]
#   Idempotent. Daemons all running: only waits for health. Data present but daemons missing (one
#   OSD killed, or a stopped cluster): starts the missing ones. No data: makes the cluster.
#   --fresh wipes the data directory first (down.sh --wipe).
#
# Environment (defaults in brackets):
#   APIARY_CEPH_DIR         data, config, keyrings, pid files and logs   [/tmp/apiary-ceph]
#   APIARY_CEPH_ADDR        the address every daemon binds: an address of this host's own, e.g. of
#                           a bridge the caller made, so gateways in network namespaces on that
#                           bridge reach the cluster too                  [127.0.0.1]
#   APIARY_CEPH_MON_PORT    mon msgr2 port                               [13300]
#   APIARY_CEPH_MON_V1_PORT mon legacy msgr1 port                        [16789]
#   APIARY_CEPH_PORT_MIN    first port for the mgr and OSDs              [16800]
#   APIARY_CEPH_PORT_MAX    last port for the mgr and OSDs               [16999]
#   APIARY_CEPH_OSD_GB      size of each OSD's sparse block file, GiB    [10]
#   APIARY_CEPH_OP_TIMEOUT  client rados_osd_op_timeout / mon_op_timeout [30]
#   APIARY_CEPH_WAIT        seconds to wait for HEALTH_OK                [120]
#
# Prints CEPH_CONF=... and CEPH_KEYRING=... (client.admin) and, last, "CEPH READY in N s".
# Every daemon runs under nice -n 19, detached, with CEPH_ARGS, CEPH_CONF and CEPH_KEYRING unset:
# Ceph reads them from the environment, and a shell (or test) that exported the client's
# (CEPH_ARGS="-n client.admin", CEPH_KEYRING=client.admin.keyring) would make an OSD authenticate
# as the client and fail. down.sh stops them.
# docs/storage-rbd.md says why each setting below is there.
set -euo pipefail

die() { echo "up.sh: $*" >&2; exit 1; }
log() { printf 'up.sh: %5.1f s %s\n' "$(elapsed)" "$*" >&2; }
t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
elapsed() { local m; m=$(ms); printf '%d.%d' $((m / 1000)) $((m % 1000 / 100)); }

here=$(cd "$(dirname "$0")" && pwd)
D=${APIARY_CEPH_DIR:-/tmp/apiary-ceph}
addr=${APIARY_CEPH_ADDR:-127.0.0.1}
[[ $addr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "APIARY_CEPH_ADDR is not an IPv4 address: $addr"
mon_port=${APIARY_CEPH_MON_PORT:-13300}
mon_v1_port=${APIARY_CEPH_MON_V1_PORT:-16789}
port_min=${APIARY_CEPH_PORT_MIN:-16800}
port_max=${APIARY_CEPH_PORT_MAX:-16999}
osd_gb=${APIARY_CEPH_OSD_GB:-10}
op_timeout=${APIARY_CEPH_OP_TIMEOUT:-30}
wait_s=${APIARY_CEPH_WAIT:-120}
osds=(0 1 2)

for v in "$mon_port" "$mon_v1_port" "$port_min" "$port_max" "$osd_gb" "$op_timeout" "$wait_s"; do
  [[ $v =~ ^[0-9]+$ ]] || die "not a number: $v"
done
for b in ceph-mon ceph-mgr ceph-osd ceph monmaptool ceph-authtool rbd uuidgen setsid; do
  command -v "$b" >/dev/null || die "$b not found; run scripts/install-test-deps.sh (as root)"
done

if [[ ${1:-} == --fresh ]]; then
  "$here/down.sh" --wipe >&2
elif [[ -n ${1:-} ]]; then
  die "usage: up.sh [--fresh]"
fi

conf=$D/ceph.conf
keyring=$D/keyring               # every key: the mon imports it at mkfs, the daemons read it
client_keyring=$D/client.admin.keyring
run=$D/run

clean_env=(env -u CEPH_ARGS -u CEPH_CONF -u CEPH_KEYRING)
# The CLI, always against this cluster as client.admin, never hanging for ever.
cli() { timeout 60 "${clean_env[@]}" "$1" -c "$conf" -n client.admin -k "$client_keyring" "${@:2}"; }

alive() { # name -> 0 if its pid file names a live ceph-* process
  local f=$run/$1.pid pid stat
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(</proc/"$pid"/comm) == ceph-* ]] || return 1
  # A killed daemon stays a zombie (state Z) until something reaps it; it is not running.
  stat=$(</proc/"$pid"/stat) 2>/dev/null || return 1
  [[ ${stat##*) } != Z* ]]
}

start() { # name binary args... : start one daemon detached, record its pid
  local name=$1 bin=$2
  shift 2
  alive "$name" && return 0
  # setsid: the daemon outlives the shell or test that ran up.sh; its stdio goes to the log dir.
  setsid "${clean_env[@]}" nice -n 19 "$bin" -f -c "$conf" "$@" </dev/null >>"$D/log/$name.out" 2>&1 &
  local pid=$! i
  echo "$pid" >"$run/$name.pid"
  # setsid, env and nice exec each other in turn: until the last exec, comm is not ceph-*.
  for ((i = 0; i < 100; i++)); do
    alive "$name" && break
    [[ -e /proc/$pid ]] || break
    sleep 0.02
  done
  log "started $name (pid $pid)"
}

write_conf() {
  cat >"$conf" <<CONF
[global]
fsid = $1
mon_host = [v2:$addr:$mon_port,v1:$addr:$mon_v1_port]
public_addr = $addr
cluster_addr = $addr
ms_bind_ipv6 = false
ms_bind_port_min = $port_min
ms_bind_port_max = $port_max
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $keyring
log_file = $D/log/\$name.log
run_dir = $run
crash_dir = $D/crash
# One host: place replicas on OSDs, not hosts.
osd_crush_chooseleaf_type = 0
osd_pool_default_size = 3
osd_pool_default_min_size = 2
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_delete = true
# A dead OSD on a single host is marked down in ~1 s instead of waiting for reporters on other hosts.
mon_osd_min_down_reporters = 1
mon_osd_reporter_subtree_level = osd
osd_heartbeat_interval = 1
osd_heartbeat_grace = 5
osd_fast_fail_on_connection_refused = true
mgr_stats_period = 1
osd_mon_report_interval = 1
mon_data_avail_warn = 1
mon_warn_on_pool_no_redundancy = false
rbd_default_features = 61

[mon]
mon_data = $D/mon.\$id
admin_socket = $run/\$name.asok

[mgr]
mgr_data = $D/mgr.\$id
admin_socket = $run/\$name.asok

[osd]
osd_data = $D/osd.\$id
osd_objectstore = bluestore
# Outside osd_data: bluestore symlinks osd_data/block to this path (inside it gives ELOOP).
bluestore_block_path = $D/osd.\$id.block
bluestore_block_create = true
bluestore_block_size = $((osd_gb << 30))
# The VM disk says rotational=1; the hdd profile sleeps 0.1 s per recovered object.
bluestore_debug_enforce_settings = ssd
osd_recovery_sleep = 0
osd_recovery_sleep_hdd = 0
osd_memory_target = 1073741824
osd_op_num_shards = 2
admin_socket = $run/\$name.asok

[client]
# A full or unreachable cluster otherwise blocks librbd I/O for ever; fail it instead.
rados_osd_op_timeout = $op_timeout
rados_mon_op_timeout = $op_timeout
client_mount_timeout = $op_timeout
CONF
}

create() {
  log "creating a cluster in $D"
  mkdir -p "$D" "$run" "$D/log" "$D/crash" "$D/mon.a" "$D/mgr.x"
  local fsid
  fsid=$(uuidgen)
  write_conf "$fsid"
  ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$client_keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$keyring" --import-keyring "$client_keyring" >/dev/null
  ceph-authtool "$keyring" --gen-key -n mgr.x \
    --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *' >/dev/null
  for i in "${osds[@]}"; do
    ceph-authtool "$keyring" --gen-key -n "osd.$i" \
      --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
  done
  chmod 600 "$keyring" "$client_keyring"
  monmaptool --create --fsid "$fsid" --addv a "[v2:$addr:$mon_port,v1:$addr:$mon_v1_port]" \
    "$D/monmap" >/dev/null
  "${clean_env[@]}" ceph-mon --mkfs -i a -c "$conf" --monmap "$D/monmap" --keyring "$keyring" \
    >>"$D/log/mkfs.out" 2>&1 || die "ceph-mon --mkfs failed; see $D/log/mkfs.out"
  start mon.a ceph-mon -i a
  start mgr.x ceph-mgr -i x
  # OSD mkfs needs no mon: the three run in parallel while the mon starts.
  local pids=()
  for i in "${osds[@]}"; do
    mkdir -p "$D/osd.$i"
    uuidgen >"$D/osd.$i.uuid"
    "${clean_env[@]}" nice -n 19 ceph-osd --mkfs -i "$i" -c "$conf" --no-mon-config \
      --osd-uuid "$(<"$D/osd.$i.uuid")" >>"$D/log/mkfs.out" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "ceph-osd --mkfs failed; see $D/log/mkfs.out"; done
  log "OSD mkfs done"
  for i in "${osds[@]}"; do
    cli ceph osd new "$(<"$D/osd.$i.uuid")" "$i" >/dev/null
  done
  for i in "${osds[@]}"; do start "osd.$i" ceph-osd -i "$i"; done
  cli ceph osd pool create rbd 16 16 replicated >/dev/null 2>&1
  cli ceph osd pool set rbd size 3 >/dev/null 2>&1
  cli ceph osd pool set rbd min_size 2 >/dev/null 2>&1
  cli ceph osd pool application enable rbd rbd >/dev/null 2>&1
  wait_clean
  cli rbd pool init rbd
  touch "$D/created"
}

daemons=(mon.a mgr.x osd.0 osd.1 osd.2)

wait_clean() { # all PGs active+clean, or die after $wait_s (or at once if a daemon exited)
  local s n
  while :; do
    for n in "${daemons[@]}"; do
      alive "$n" || die "$n is not running; see $D/log/$n.out and $D/log/$n.log"
    done
    s=$(cli ceph pg stat 2>/dev/null || true)
    [[ $s =~ ^([0-9]+)\ pgs:\ ([0-9]+)\ active\+clean\; && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] && break
    (( $(ms) > wait_s * 1000 )) && die "PGs not clean after ${wait_s} s: $s"
    sleep 0.5
  done
  log "PGs clean: ${s%%;*}"
}

wait_health() {
  local h
  while :; do
    h=$(cli ceph health 2>/dev/null || true)
    [[ $h == HEALTH_OK* ]] && break
    if (( $(ms) > wait_s * 1000 )); then
      cli ceph health detail >&2 || true
      die "not HEALTH_OK after ${wait_s} s: $h"
    fi
    sleep 0.5
  done
  log "HEALTH_OK"
}

if [[ -f $D/created ]]; then
  mkdir -p "$run" "$D/log"
  missing=0
  for n in "${daemons[@]}"; do alive "$n" || missing=1; done
  if (( missing )); then
    start mon.a ceph-mon -i a
    start mgr.x ceph-mgr -i x
    for i in "${osds[@]}"; do start "osd.$i" ceph-osd -i "$i"; done
  fi
  wait_clean
else
  [[ -e $D && -n $(ls -A "$D" 2>/dev/null) ]] && die "$D exists but holds no finished cluster; run down.sh --wipe or up.sh --fresh"
  create
fi
wait_health
echo "CEPH_CONF=$conf"
echo "CEPH_KEYRING=$client_keyring"
echo "CEPH READY in $(elapsed) s"
