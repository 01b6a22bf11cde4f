#!/usr/bin/env bash
# boot-test.sh: boots a worker image end to end through Apiary's own services, in QEMU.
#
#   boot-test.sh IMG [--workdir DIR] [--http-port 8080] [--iscsi-port P] [--image-name golden]
#                    [--boots "bios:52:54:00:aa:00:01 bios:52:54:00:aa:00:01 uefi:..."]
#                    [--timeout 300] [--hook CMD]
#
# --hook CMD runs once when apiary serve is ready, before the first boot, with BOOT_URL (Apiary's
# boot HTTP service on loopback), ISCSI_PORT and WORK exported: e.g. to enroll a machine
# (curl $BOOT_URL/boot/<mac>) and write into its LUNs before it boots.
# NIC_OPTS adds options to QEMU's virtio-net-pci device, QEMU_EXTRA arguments to QEMU.
#
# IMG is imported as a golden image (apiary store import + snapshot @v1) into a fresh data
# directory; `apiary serve` runs with network boot over HTTP only (dhcp: off, TFTP off) and its
# iSCSI target on 127.0.0.1. Each boot is one QEMU (-accel tcg) with user-mode networking
# (slirp): slirp's DHCP and TFTP hand iPXE a two-line script that chains Apiary's
# http://10.0.2.2:<http-port>/boot/${mac}; slirp maps 10.0.2.2 to this host's loopback, which is
# also why the target's portal is named 10.0.2.2 in the boot scripts. No other network is used.
#
# The image should be built with --poweroff-after-up, so each boot ends by itself after the
# marker. Per boot it prints the seconds from QEMU's start to each milestone on the serial
# console, and at the end a RESULT line per boot and the worker's boot timeline from the API.
# Exits non-zero if a boot misses its marker. Every process it starts is stopped by PID.
#
# Needs: qemu-system-x86 ipxe-qemu ovmf perl curl, and the repository's ./apiary (JDK >= 21).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
IMG=
WORK=
ISCSI_PORT=
HOOK=
HTTP_PORT=8080
NAME=golden
BOOTS="bios:52:54:00:aa:00:01 bios:52:54:00:aa:00:01 uefi:52:54:00:aa:00:01 uefi:52:54:00:aa:00:02"
TIMEOUT=300
DATA_SIZE=1G

die() { echo "boot-test: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
        --workdir) WORK=$2; shift 2 ;;
        --http-port) HTTP_PORT=$2; shift 2 ;;
        --iscsi-port) ISCSI_PORT=$2; shift 2 ;;
        --image-name) NAME=$2; shift 2 ;;
        --boots) BOOTS=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --hook) HOOK=$2; shift 2 ;;
        -*) die "unknown option $1" ;;
        *) [ -z "$IMG" ] || die "one image only"; IMG=$1; shift ;;
    esac
done
[ -n "$IMG" ] && [ -f "$IMG" ] || die "usage: boot-test.sh IMG [--workdir DIR] [--http-port P] [--boots '...']"
for t in qemu-system-x86_64 perl curl; do command -v $t >/dev/null || die "missing $t"; done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || die "missing OVMF (apt-get install ovmf)"
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/apiary-boot-test.XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then
    die "port $HTTP_PORT is taken; pass --http-port P and build the image with --apiary-url http://10.0.2.2:P"
fi
[ -n "${ISCSI_PORT:-}" ] || ISCSI_PORT=$(free_port)

serve_pid=
qemu_pid=
cleanup() {
    set +e
    [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null
    if [ -n "$serve_pid" ]; then
        kill "$serve_pid" 2>/dev/null
        for _ in $(seq 1 60); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$serve_pid" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

data=$WORK/data
if [ ! -d "$data/store" ]; then
    echo "boot-test: importing $IMG as $NAME@v1"
    "$repo/apiary" store --dir "$data/store" import "$NAME" "$IMG" > "$WORK/import.log"
    "$repo/apiary" store --dir "$data/store" snapshot "$NAME@v1" >> "$WORK/import.log"
fi
cat > "$WORK/apiary.yaml" <<EOF
target:
  listen: "127.0.0.1:$ISCSI_PORT"
  portals: ["10.0.2.2:$ISCSI_PORT"]   # what the boot script names: the host, seen from slirp
fleet:
  enrollment: auto
  image: $NAME@v1
  data-size: $DATA_SIZE
pxe: {dhcp: off, address: 127.0.0.1, http-port: $HTTP_PORT, tftp-port: 0}
api: {listen: "127.0.0.1:0"}
EOF
"$repo/apiary" serve --data "$data" --config "$WORK/apiary.yaml" > "$WORK/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 120); do
    grep -qs '^ready ' "$WORK/serve.log" && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "apiary serve stopped"; }
    sleep 0.5
done
ready=$(grep '^ready ' "$WORK/serve.log") || die "apiary serve not ready: $(tail -n 5 "$WORK/serve.log")"
echo "boot-test: $ready"
api=$(sed -n 's/.* api=\([^ ]*\).*/\1/p' <<<"$ready")

if [ -n "$HOOK" ]; then
    BOOT_URL=$(sed -n 's/.* boot=\([^ ]*\).*/\1/p' <<<"$ready") ISCSI_PORT=$ISCSI_PORT WORK=$WORK bash -c "$HOOK" \
        || die "the hook failed: $HOOK"
fi
mkdir -p "$WORK/tftp"
printf '#!ipxe\ndhcp\nchain http://10.0.2.2:%s/boot/${mac}\n' "$HTTP_PORT" > "$WORK/tftp/boot.ipxe"

# milestone NAME REGEX: the first serial line matching, as "NAME=<seconds>".
milestones=(
    "script:/boot/[^ ]*\\.\\.\\. ok"
    "sanboot:Registered SAN device|Booting from SAN device"
    "kernel:Linux version"
    "login:Connection[0-9:]+ to \\[target|APIARY-ISCSI [0-9]+ portals?, [1-9][0-9]* logged in"
    "root:EXT4-fs \\((sda2|dm-[0-9]+)\\): mounted"
    "exec:Not activating Mandatory Access Control"
    "systemd:Welcome to Debian"
    "data:APIARY-DATA (formatted|mounted)"
    "up:APIARY-WORKER-UP"
    "off:reboot: Power down"
)
results=()
failed=0
n=0
for b in $BOOTS; do
    n=$((n + 1))
    fw=${b%%:*} mac=${b#*:}
    log=$WORK/boot$n-$fw.serial
    # SeaBIOS shows its console (iPXE, extlinux) on COM1 when told the port, little-endian.
    printf '\xf8\x03' > "$WORK/sercon-port"
    fwargs=(-fw_cfg "name=etc/sercon-port,file=$WORK/sercon-port")
    if [ "$fw" = uefi ]; then
        cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/vars$n.fd"
        fwargs=(-machine q35
            -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
            -drive if=pflash,format=raw,file="$WORK/vars$n.fd")
    fi
    echo "boot-test: boot $n: $fw, mac $mac"
    start=$(date +%s.%N)
    # Serial on stdio, each line stamped with the seconds since QEMU started.
    rm -f "$WORK/qemu$n.pid"
    qemu-system-x86_64 -accel tcg -cpu qemu64 -smp 1 -m 1024 -display none -monitor none -no-reboot \
        -pidfile "$WORK/qemu$n.pid" "${fwargs[@]}" -serial stdio \
        -netdev "user,id=n0,ipv4=on,ipv6=on,tftp=$WORK/tftp,bootfile=boot.ipxe" \
        -device "virtio-net-pci,netdev=n0,mac=$mac,bootindex=1${NIC_OPTS:+,$NIC_OPTS}" ${QEMU_EXTRA:-} < /dev/null 2>"$WORK/boot$n.qemu.err" \
        | perl -MTime::HiRes=time -e '$t0 = shift; $| = 1;
              while (<STDIN>) { s/\r//g; s/\e\[[0-9;?]*[A-Za-z]//g; printf "%7.2f %s", time - $t0, $_ }' "$start" > "$log" &
    pipe_pid=$!
    for _ in $(seq 1 50); do [ -s "$WORK/qemu$n.pid" ] && break; sleep 0.1; done
    qemu_pid=$(cat "$WORK/qemu$n.pid" 2>/dev/null) || die "QEMU did not start: $(cat "$WORK/boot$n.qemu.err")"
    end=$(( $(date +%s) + TIMEOUT ))
    marked=
    while kill -0 "$qemu_pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
        if grep -qE "Kernel panic|Gave up waiting for root|Could not open SAN device|SANBOOT-FAILED|No such device \(http" "$log"; then
            break
        fi
        # An image built without --poweroff-after-up keeps running: give it 30 s after the marker
        # (unless it is upgrading), then stop it.
        if [ -z "${marked:-}" ] && grep -q 'APIARY-WORKER-UP' "$log"; then marked=$(date +%s); fi
        if [ -n "${marked:-}" ] && [ "$(date +%s)" -gt $((marked + 30)) ] \
            && ! grep -q 'APIARY-MAINTENANCE start' "$log"; then
            break
        fi
        sleep 0.5
    done
    kill "$qemu_pid" 2>/dev/null || true # still running: timed out or failed
    wait "$pipe_pid" 2>/dev/null || true
    qemu_pid=
    off=$(perl -MTime::HiRes=time -e 'printf "%.1f", time - shift' "$start")
    line="RESULT boot n=$n fw=$fw mac=$mac"
    for m in "${milestones[@]}"; do
        t=$(grep -m1 -E "${m#*:}" "$log" | awk '{print $1}') || true
        line+=" ${m%%:*}=${t:--}"
    done
    line+=" exit=$off"
    up=$(grep -m1 'APIARY-WORKER-UP' "$log" | cut -c9-) || true
    dataline=$(grep -m1 -E 'APIARY-DATA (formatted|mounted|none)' "$log" | cut -c9-) || true
    if [ -n "$up" ]; then line+=" status=ok"; else line+=" status=FAILED"; failed=$((failed + 1)); fi
    echo "$line"
    echo "    ${up:-no marker}"
    echo "    ${dataline:-no APIARY-DATA line}"
    grep -E 'APIARY-(AGENT|MAINTENANCE)' "$log" | cut -c9- | sed 's/^/    /' || true
    results+=("$line")
done

token=$("$repo/apiary" token create --data "$data" boot-test 2>/dev/null) || token=
if [ -n "$token" ] && [ -n "$api" ]; then
    for w in $(curl -s --cacert "$data/tls/api-cert.pem" -H "Authorization: Bearer $token" "$api/api/v1/workers" \
                 | grep -o '"name":"worker[0-9]*"' | cut -d'"' -f4 | sort -u); do
        echo "boot-test: $w's boots (GET /api/v1/workers/$w/boots):"
        curl -s --cacert "$data/tls/api-cert.pem" -H "Authorization: Bearer $token" "$api/api/v1/workers/$w/boots" > "$WORK/$w-boots.json"
        python3 -c 'import json, sys
for b in json.load(open(sys.argv[1]))["items"]:
    print("    boot %s started %s: %s" % (b["boot"], b["started"],
          " ".join("%s=%.1f" % (p["phase"], p["seconds"]) for p in b["phases"])))' "$WORK/$w-boots.json" \
            || cat "$WORK/$w-boots.json"
    done
fi
if [ -n "$token" ] && [ -n "$api" ]; then
    echo "boot-test: bytes the target served and took, all boots (GET /metrics):"
    curl -s --cacert "$data/tls/api-cert.pem" -H "Authorization: Bearer $token" "$api/metrics" \
        | grep -E '^apiary_lun_(read|written)_bytes_total' \
        | awk '{ printf "    %s %.1f MiB\n", $1, $2 / 1048576 }' || true
fi
echo "boot-test: logs in $WORK"
printf '%s\n' "${results[@]}"
[ "$failed" = 0 ]
