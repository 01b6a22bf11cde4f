#!/usr/bin/env bash
# boot-bench.sh - the boot benchmark of issue 6: power-on to userspace of real (emulated) workers
# through Apiary (A) against the same image through dnsmasq + tgt (B, the reference of
# research/boot-chain.md), on one private boot network, runs alternating A, B, A, B, ...
#
# The network (built here, removed at exit): a network namespace apx-bb-PID holding bridge br0
# (10.78.0.1/24, the boot server's side) and one tap per VM, and a second namespace apx-bbr-PID,
# the "home router" (10.78.0.254, plugged into br0 by a veth pair), running dnsmasq as DHCP
# (10.78.0.50-99) and IPv6 RA only, as PxeBootIT's proxyDHCP test. 10.78.0.0/24, so it can run
# beside the tests (10.77.0.0/24). No traffic leaves these namespaces.
#
#   A  `apiary serve` inside the bridge namespace: proxyDHCP beside the router (pxe.dhcp: proxy,
#      interface br0), TFTP (snponly.efi) and HTTP boot on 10.78.0.1, the target on
#      10.78.0.1:3260, a fresh data directory per run with the image imported and sealed as
#      golden@v1 (store CLI, before the start) and set as the fleet's image with enrollment: auto,
#      so each VM's MAC is unknown and enrolls at its first GET /boot/<mac> (root cloned, data LUN
#      made, mutual CHAP): the "plug in and boot" story.
#   B  dnsmasq inside the bridge namespace as proxyDHCP + TFTP (pxe-service: the firmware gets
#      snponly.efi, iPXE gets boot.ipxe = `chain w-${mac:hexhyp}.ipxe`, the per-MAC script with
#      mutual CHAP and `sanboot iscsi:10.78.0.1::3260:1:<target>`), and tgtd (Debian's tgt,
#      run inside the namespace with its own control port) with one target per VM whose LUN 1 is
#      a full copy of the image (cp --reflink=auto --sparse=always; tgt's LUN 0 is its
#      controller) and LUN 2 a blank sparse data volume of --data-size, mutual CHAP: the setup of
#      research/boot-chain.md §3-4 doing the same guest work as A (the image's DATA_LUN=auto
#      finds the data disk beside the root on either). Copy time is not boot time.
#
# Each VM: QEMU -accel tcg -cpu qemu64 -smp 1 -m MEM, virtio-net on its own tap; UEFI (OVMF
# OVMF_CODE_4M.fd + a fresh copy of the vars, q35, the NIC's option ROM removed so OVMF's own PXE
# client starts the chain, as on the Wyse 3040) or --fw bios (SeaBIOS + QEMU's iPXE ROM). All the
# VMs of a run are started together; times are seconds from each QEMU's start to lines on its
# serial console (stamped as they arrive), up to the `APIARY-WORKER-UP` marker. The image is built
# with --poweroff-after-up, so each VM ends by itself.
#
# Usage: boot-bench.sh [--image IMG] [--workers N] [--rounds R] [--fw uefi|bios] [--mem MiB]
#            [--timeout S] [--settle S] [--warm] [--cpu MODEL] [--nice N] [--data-size 1G] [--build-opts "..."]
#            [--pcap] [--dir DIR] [--keep]
#   --image    the worker image (raw); default: built here with
#              worker-images/recipes/build-worker-image.sh --version bench --poweroff-after-up
#              (and --build-opts, e.g. "--data-path none": no data LUN mount on either side)
#   --workers  VMs powered on together per run (default 1)
#   --rounds   rounds; each is one A run then one B run (default 3)
#   --timeout  per boot, from its QEMU's start to the marker (default 600)
#   --warm     before the timed VMs of each run, one untimed warm-up boot (VM 0, its own MAC, tap and
#              target) on the same side: the timed boots then meet a server that has booted a
#              machine already (for Apiary: a JVM whose boot path is compiled), not a fresh one
#   --cpu      QEMU's -cpu (default qemu64, as research/boot-chain.md)
#   --nice     run the VMs at this nice value (default 0). Here the emulated machines share the two
#              cores with the boot services; real workers are other boxes, so --nice 10 gives the
#              server the priority its own CPU would
#   --pcap     also capture the iSCSI and boot HTTP traffic on br0 (tcpdump, headers only) per run,
#              and report how long the target took to answer: for each initiator packet that finds
#              the target with nothing in flight on that connection, the time to the target's next
#              data (n, sum, p50/p90/p99 over every connection of the timed VMs)
#   --settle   seconds between the boot services being ready and the power-on (default 5)
#   --dir      work directory (default /var/tmp/apiary-boot-bench.PID: disk); removed at exit
#              unless --keep (serial consoles, server logs, timelines). Images, LUN copies and
#              stores are deleted after each run either way.
#
# Prints a RESULT line per VM and per run, then markdown tables: every run (with the load
# average at its start and end, QEMU processes on the machine that were not ours, and the CPU
# seconds the boot services used from the timed power-on to the last VM's end: apiary's JVM, or
# tgtd + dnsmasq; and the guests' own, their QEMUs' user + system time), and per
# side the medians over runs (of each run's median and of its last VM up) with the ratio A/B,
# and the median of each milestone. For A, also each worker's boot timeline from
# GET /api/v1/workers/<name>/boots and the target's bytes from /metrics.
# Needs root, qemu-system-x86 ovmf ipxe ipxe-qemu dnsmasq tgt perl curl python3, and the
# repository's ./apiary (JDK >= 21). Exit 0 when every boot reached its marker, 1 otherwise, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
die() { echo "boot-bench.sh: $*" >&2; exit 1; }
note() { echo "boot-bench.sh: $(date +%T) $*" >&2; }

image= workers=1 rounds=3 fw=uefi mem=1024 timeout=600 settle=5 data_size=1G work= keep=0 build_opts= pcap=0
warm=0 cpu=qemu64 nice=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --image) image=${2:?}; shift 2 ;;
        --workers) workers=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --fw) fw=${2:?}; shift 2 ;;
        --mem) mem=${2:?}; shift 2 ;;
        --timeout) timeout=${2:?}; shift 2 ;;
        --settle) settle=${2:?}; shift 2 ;;
        --data-size) data_size=${2:?}; shift 2 ;;
        --dir) work=${2:?}; shift 2 ;;
        --keep) keep=1; shift ;;
        --build-opts) build_opts=${2?}; shift 2 ;;
        --pcap) pcap=1; shift ;;
        --warm) warm=1; shift ;;
        --cpu) cpu=${2:?}; shift 2 ;;
        --nice) nice=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
for v in "$workers" "$rounds" "$mem" "$timeout"; do [[ $v =~ ^[0-9]+$ && $v -ge 1 ]] || usage; done
[[ $settle =~ ^[0-9]+$ ]] || usage
((workers <= 16 && rounds <= 20 && timeout <= 3600 && mem >= 256 && mem <= 4096)) || usage
[[ $fw == uefi || $fw == bios ]] || usage
[[ $data_size =~ ^[0-9]+[MG]$ ]] || usage
[[ $cpu =~ ^[A-Za-z0-9_.,+=-]+$ ]] || usage
[[ $nice =~ ^[0-9]+$ ]] && ((nice <= 19)) || usage
first_vm=$((1 - warm)) # VM 0 is the warm-up boot
[[ $(id -u) == 0 ]] || die "needs root (network namespaces, taps, tgtd, the image build)"
for c in qemu-system-x86_64 dnsmasq tgtd tgtadm perl curl python3 ip; do
    command -v "$c" >/dev/null || die "$c is missing (apt-get install qemu-system-x86 ovmf ipxe ipxe-qemu dnsmasq tgt perl curl python3 iproute2)"
done
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd ipxe_dir=/usr/lib/ipxe
for f in "$ovmf_code" "$ovmf_vars" "$ipxe_dir/snponly.efi"; do [[ -f $f ]] || die "$f is missing (apt-get install ovmf ipxe)"; done

source "$root/scripts/find-jdk.sh" >/dev/null
"$root/apiary" --help >/dev/null 2>&1 || true # builds admin-api/target/apiary.jar when stale
jar=$root/admin-api/target/apiary.jar
[[ -f $jar ]] || die "no $jar: build with mvn -B -q install -DskipTests"
java=$JAVA_HOME/bin/java

work=${work:-/var/tmp/apiary-boot-bench.$$}
[[ -e $work ]] && die "$work exists; give a fresh --dir"
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
logs=$work/logs

# ---------------------------------------------------------------- what we started, and its end
ns=apx-bb-$$ rns=apx-bbr-$$
net_up=0 router_pid= tcpdump_pid= apiary_pid= dnsmasq_pid= tgtd_pid= tgt_ctl=
vm_qemu=() vm_pipe=() vm_t0=() vm_ticks=()

alive() { [[ -n ${1:-} && -d /proc/$1 ]]; }
stop_pid() { # PID [SECONDS]: SIGTERM, wait, SIGKILL; only a process this script started
    local pid=$1 secs=${2:-20} i
    alive "$pid" || return 0
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then note "PID $pid ($(cat /proc/"$pid"/comm 2>/dev/null)) did not stop in $secs s: SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}
stop_vms() {
    local p t
    for p in "${vm_qemu[@]}"; do stop_pid "$p" 10; done
    for p in "${vm_pipe[@]}"; do stop_pid "$p" 5; done
    vm_qemu=() vm_pipe=()
}
stop_apiary() { stop_pid "$apiary_pid" 60; apiary_pid=; }
stop_dnsmasq() { stop_pid "$dnsmasq_pid" 10; dnsmasq_pid=; }
tgtadm_() { ip netns exec "$ns" tgtadm -C "$tgt_ctl" --lld iscsi "$@"; }
stop_tgtd() {
    local t
    if alive "$tgtd_pid"; then
        # tgtd ignores SIGTERM while it has targets (research/boot-chain.md §3)
        for ((t = 1; t <= workers + 1; t++)); do tgtadm_ --op delete --mode target --tid "$t" --force >/dev/null 2>&1 || true; done
        tgtadm_ --op delete --mode system >/dev/null 2>&1 || true
        stop_pid "$tgtd_pid" 10
    fi
    tgtd_pid=
    [[ -n $tgt_ctl ]] && rm -f "/var/run/tgtd/socket.$tgt_ctl" "/var/run/tgtd/socket.$tgt_ctl.lock"
    return 0
}
cleanup() {
    set +e
    stop_vms
    stop_pid "$tcpdump_pid" 10
    stop_apiary
    stop_dnsmasq
    stop_tgtd
    stop_pid "$router_pid" 10
    if ((net_up)); then ip netns del "$rns" 2>/dev/null; ip netns del "$ns" 2>/dev/null; fi
    rm -rf "$work"/run*/big
    if ((keep)); then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
other_qemu() { # QEMU processes on this machine that are not this run's
    local n=0 p
    for p in $(pgrep -x qemu-system-x86 2>/dev/null); do
        [[ " ${vm_qemu[*]} " == *" $p "* ]] || n=$((n + 1))
    done
    echo "$n"
}
cpu_s() { # PID...: user + system CPU seconds of these processes so far (all threads)
    local p t=0 v
    for p in "$@"; do
        alive "$p" || continue
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + v))
    done
    awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}
# CPU seconds by thread name (threads of one kind summed: scsi-1..8 -> scsi) of these processes
thread_cpu() {
    local p t
    for p in "$@"; do
        for t in /proc/"$p"/task/*; do
            # a thread may end between the listing and the read: skip it (stderr first, so the failed < is quiet)
            n=$(tr ' ' '_' 2>/dev/null <"$t/comm") || continue
            awk -v n="$n" '{ print n, $14 + $15 }' "$t/stat" 2>/dev/null || continue
        done
    done | sed -E 's/[#-]?[0-9]+ / /' | awk -v hz="$(getconf CLK_TCK)" '{ c[$1] += $2 } END { for (k in c) if (c[k] > 0) printf "%.2f %s\n", c[k] / hz, k }' |
        sort -rn
}
secret() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }
mac_of() { printf '52:54:00:78:00:%02x' "$1"; }
cmds=()

# ---------------------------------------------------------------- the image
if [[ -z $image ]]; then
    image=$work/worker.img
    note "building the worker image (base cached in /var/cache/apiary-worker)"
    # shellcheck disable=SC2086 # --build-opts is a list of options
    "$root/worker-images/recipes/build-worker-image.sh" --out "$image" --version bench --poweroff-after-up $build_opts \
        >"$logs/build.log" 2>&1 || die "image build failed: $(tail -5 "$logs/build.log")"
    grep '^RESULT build' "$logs/build.log" >&2 || true
    cmds+=("worker-images/recipes/build-worker-image.sh --out worker.img --version bench --poweroff-after-up${build_opts:+ $build_opts}")
fi
[[ -f $image ]] || die "no image $image"
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")

# ---------------------------------------------------------------- the boot network
ipn() { ip "$@" || die "ip $*: failed"; }
ipn netns add "$ns"
net_up=1
ipn netns add "$rns"
ipn -n "$ns" link set lo up
ipn -n "$ns" link add br0 type bridge
ipn -n "$ns" addr add 10.78.0.1/24 dev br0
ipn -n "$ns" link set br0 up
ipn -n "$rns" link set lo up
ipn link add r0 netns "$rns" type veth peer name vr0 netns "$ns"
ipn -n "$ns" link set vr0 master br0 up
ipn -n "$rns" addr add 10.78.0.254/24 dev r0
ipn -n "$rns" addr add fd78::fe/64 dev r0 nodad
ipn -n "$rns" link set r0 up
for ((i = first_vm; i <= workers; i++)); do
    ipn -n "$ns" tuntap add dev "tap$i" mode tap
    ipn -n "$ns" link set "tap$i" master br0 up
done
# A home router: addresses and IPv6 RA (without RA stock iPXE waits ~16 s: boot-chain.md §4).
# --no-ping: dnsmasq otherwise pings an address before its first offer to a new MAC and holds the
# offer up to 3 s, one address at a time; the lease file starts empty, so the first run (always
# A) would pay it for every VM (OVMF then sends DISCOVER again: +4-10 s for five machines).
ip netns exec "$rns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --group=root \
    --interface=r0 --bind-interfaces --no-ping --dhcp-range=10.78.0.50,10.78.0.99,255.255.255.0,1h \
    --dhcp-option=option:router,10.78.0.254 --dhcp-leasefile="$work/router.leases" \
    --log-dhcp --log-facility=- --enable-ra --dhcp-range=::,constructor:r0,ra-only >"$logs/router-dnsmasq.log" 2>&1 &
router_pid=$!
sleep 0.5
alive "$router_pid" || die "the router's dnsmasq stopped: $(tail -3 "$logs/router-dnsmasq.log")"
cmds+=("ip netns: $ns (br0 10.78.0.1/24, tap$first_vm..tap$workers) + $rns (r0 10.78.0.254/24, fd78::fe/64, veth into br0)")
cmds+=("ip netns exec $rns dnsmasq --port=0 --interface=r0 --bind-interfaces --no-ping --dhcp-range=10.78.0.50,10.78.0.99,255.255.255.0,1h --dhcp-option=option:router,10.78.0.254 --enable-ra --dhcp-range=::,constructor:r0,ra-only")

# ---------------------------------------------------------------- the VMs
printf '\xf8\x03' >"$work/sercon-port" # SeaBIOS: its console (and iPXE's) on COM1
start_vms() { # DIR FIRST LAST: powers on VMs FIRST..LAST together; fills vm_qemu, vm_pipe, vm_t0
    local dir=$1 from=$2 to=$3 i fwargs nic pid
    if [[ $fw == uefi ]]; then for ((i = from; i <= to; i++)); do cp "$ovmf_vars" "$dir/vars$i.fd"; done; fi
    for ((i = from; i <= to; i++)); do
        if [[ $fw == uefi ]]; then
            fwargs=(-machine q35 -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
                -drive "if=pflash,format=raw,file=$dir/vars$i.fd")
            nic="virtio-net-pci,netdev=n0,mac=$(mac_of "$i"),romfile=,bootindex=1"
        else
            fwargs=(-fw_cfg "name=etc/sercon-port,file=$work/sercon-port")
            nic="virtio-net-pci,netdev=n0,mac=$(mac_of "$i"),bootindex=1"
        fi
        rm -f "$dir/qemu$i.pid"
        vm_ticks[i]=0
        vm_t0[i]=$EPOCHREALTIME
        # serial on stdout, each line stamped with the seconds since this QEMU started
        ip netns exec "$ns" nice -n "$nice" qemu-system-x86_64 -accel tcg -cpu "$cpu" -smp 1 -m "$mem" -nodefaults -display none \
            -no-reboot -pidfile "$dir/qemu$i.pid" "${fwargs[@]}" \
            -netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no" -device "$nic" -serial stdio \
            </dev/null 2>"$dir/qemu$i.err" |
            perl -MTime::HiRes=time -e '$t0 = shift; $| = 1;
                while (<STDIN>) { s/\r//g; s/\e\[[0-9;?]*[A-Za-z]//g; printf "%8.2f %s", time - $t0, $_ }' "${vm_t0[i]}" \
                >"$dir/serial$i.log" &
        vm_pipe[i]=$!
    done
    for ((i = from; i <= to; i++)); do
        pid=
        for _ in $(seq 1 100); do [[ -s $dir/qemu$i.pid ]] && pid=$(<"$dir/qemu$i.pid") && break; sleep 0.1; done
        [[ -n $pid ]] || die "QEMU $i did not start: $(cat "$dir/qemu$i.err")"
        vm_qemu[i]=$pid
    done
}

fail_re='Kernel panic|Gave up waiting for root|Could not open SAN device|SANBOOT-FAILED|No such device \(http|No more network devices|Could not boot'
wait_vms() { # DIR FIRST LAST: until each of these VMs is off, failed or past --timeout
    local dir=$1 from=$2 to=$3 i done_n now
    local -a state=()
    while :; do
        done_n=0
        now=$EPOCHREALTIME
        for ((i = from; i <= to; i++)); do
            if [[ -n ${state[i]:-} ]]; then done_n=$((done_n + 1)); continue; fi
            # the guest's CPU so far (QEMU's user + system ticks), the last reading before it ends
            vm_ticks[i]=$(awk '{ print $14 + $15 }' "/proc/${vm_qemu[i]}/stat" 2>/dev/null || echo "${vm_ticks[i]:-0}")
            if ! alive "${vm_qemu[i]}"; then
                state[i]=exited
            elif grep -qE "$fail_re" "$dir/serial$i.log"; then
                state[i]=failed; stop_pid "${vm_qemu[i]}" 5
            elif awk -v a="${vm_t0[i]}" -v b="$now" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
                state[i]=timeout; stop_pid "${vm_qemu[i]}" 5
            fi
            [[ -n ${state[i]:-} ]] && { done_n=$((done_n + 1)); note "  vm$i: ${state[i]}"; }
        done
        ((done_n == to - from + 1)) && break
        sleep 0.5
    done
    for ((i = from; i <= to; i++)); do wait "${vm_pipe[i]}" 2>/dev/null || true; unset "vm_qemu[i]" "vm_pipe[i]"; done
}

# milestone NAME:REGEX, the first serial line matching, in seconds from the VM's QEMU start
milestones=(
    "ipxe:iPXE initialising devices"
    "script:(/boot/[^ ]*|w-[0-9a-f-]+\\.ipxe)\\.\\.\\. ok"
    "sanboot:Registered SAN device|Booting from SAN device"
    "kernel:Linux version"
    "login:Connection[0-9:]+ to \\[target|APIARY-ISCSI [0-9]+ portals?, [1-9][0-9]* logged in"
    "root:EXT4-fs \\((sda2|dm-[0-9]+)\\): mounted"
    "systemd:Welcome to Debian"
    "data:APIARY-DATA (formatted|mounted|none)"
    "up:APIARY-WORKER-UP"
    "off:reboot: Power down"
)
results=$work/results.txt # run side vm name=value...
runs=$work/runs.txt       # run side ok median max wall load0 load1 others readMiB
: >"$results"
: >"$runs"
failures=0

report_vms() { # RUN SIDE DIR
    local run=$1 side=$2 dir=$3 i m t line ups=() ok=0 first_t0=${vm_t0[1]} wall=0 w guest=0 hz
    hz=$(getconf CLK_TCK)
    for ((i = 1; i <= workers; i++)); do
        line="run=$run side=$side vm=$i mac=$(mac_of "$i")"
        for m in "${milestones[@]}"; do
            t=$(grep -m1 -E "${m#*:}" "$dir/serial$i.log" | awk '{ print $1 }') || true
            line+=" ${m%%:*}=${t:--}"
        done
        line+=" guest_cpu=$(awk -v t="${vm_ticks[i]:-0}" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')"
        guest=$((guest + ${vm_ticks[i]:-0}))
        t=$(grep -m1 'APIARY-WORKER-UP' "$dir/serial$i.log" | awk '{ print $1 }') || true
        if [[ -n $t ]]; then
            line+=" status=ok"
            ok=$((ok + 1))
            ups+=("$t")
            # when it was up, from the first VM's power-on (all start within milliseconds)
            w=$(awk -v a="$first_t0" -v b="${vm_t0[i]}" -v t="$t" 'BEGIN { printf "%.2f", b - a + t }')
            wall=$(awk -v a="$wall" -v b="$w" 'BEGIN { print (b > a) ? b : a }')
        else
            line+=" status=FAILED($(tail -n 2 "$dir/serial$i.log" | cut -c10- | tr -s '\n' ' ' | cut -c1-120))"
            failures=$((failures + 1))
        fi
        echo "RESULT vm $line"
        echo "$line" >>"$results"
    done
    local med=- mx=-
    if ((${#ups[@]})); then
        med=$(printf '%s\n' "${ups[@]}" | median)
        mx=$(printf '%s\n' "${ups[@]}" | sort -g | tail -1)
    fi
    ((ok == workers)) || wall=-
    run_line="$run $side $ok $med $mx $wall $(awk -v t="$guest" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')"
}

# ---------------------------------------------------------------- A: apiary serve
run_a() { # RUN DIR
    local run=$1 dir=$2 data=$2/big/data
    mkdir -p "$dir/big"
    "$java" -jar "$jar" store --dir "$data/store" import golden "$image" >"$dir/import.log" 2>&1 ||
        die "import: $(tail -3 "$dir/import.log")"
    "$java" -jar "$jar" store --dir "$data/store" snapshot golden@v1 >>"$dir/import.log" 2>&1 ||
        die "snapshot: $(tail -3 "$dir/import.log")"
    cat >"$dir/apiary.yaml" <<EOF
target:
  listen: "10.78.0.1:3260"
  portals: ["10.78.0.1:3260"]
fleet:
  enrollment: auto
  image: golden@v1
  data-size: $data_size
pxe:
  dhcp: proxy
  address: 10.78.0.1
  interface: br0
api:
  listen: "127.0.0.1:0"
EOF
    sync
    ip netns exec "$ns" "$java" ${APIARY_JAVA_OPTS:-} -jar "$jar" serve --data "$data" --config "$dir/apiary.yaml" \
        >"$dir/serve.out" 2>"$dir/serve.log" &
    apiary_pid=$!
    local t0=$SECONDS line=
    while ((SECONDS - t0 < 120)); do
        line=$(grep -m1 '^ready ' "$dir/serve.out" 2>/dev/null || true)
        [[ -n $line ]] && break
        alive "$apiary_pid" || die "apiary serve exited: $(tail -5 "$dir/serve.log")"
        sleep 0.2
    done
    [[ -n $line ]] || die "apiary serve not ready in 120 s: $(tail -5 "$dir/serve.log")"
    note "A: $line"
    local api; api=$(sed -E 's/.* api=([^ ]+).*/\1/' <<<"$line")
    sleep "$settle"
    server_pids=("$apiary_pid")
    boot_run "$run" A "$dir"
    # the server's view: each worker's boot timeline and the target's bytes
    local token cfg=$dir/auth.cfg
    token=$("$java" -jar "$jar" token create --data "$data" "bench-$$" 2>/dev/null | tail -1) || token=
    if [[ $token == apy_* ]]; then
        printf 'header = "Authorization: Bearer %s"\n' "$token" >"$cfg"
        chmod 600 "$cfg"
        local c=(ip netns exec "$ns" curl -sS -m 30 --cacert "$data/tls/api-cert.pem" -K "$cfg")
        "${c[@]}" "$api/api/v1/workers?limit=100" >"$dir/workers.json" || true
        "${c[@]}" "$api/metrics" >"$dir/metrics.txt" || true
        local w
        for w in $(grep -o '"name":"worker[0-9]*"' "$dir/workers.json" | cut -d'"' -f4 | sort -u); do
            "${c[@]}" "$api/api/v1/workers/$w/boots" >"$dir/$w-boots.json" || true
            python3 - "$dir/$w-boots.json" "$dir/workers.json" "$w" "$run" <<'EOF' || true
import json, sys
boots = json.load(open(sys.argv[1]))["items"]
mac = next((x.get("mac") for x in json.load(open(sys.argv[2]))["items"] if x["name"] == sys.argv[3]), "?")
for b in boots:
    print("TIMELINE run=%s worker=%s mac=%s boot=%s %s" % (sys.argv[4], sys.argv[3], mac, b["boot"],
          " ".join("%s=%.1f" % (p["phase"], p["seconds"]) for p in b["phases"])))
EOF
        done | tee -a "$work/timelines.txt"
        # bytes read from the timed workers' LUNs (not the warm-up machine's)
        read_mib=$(python3 - "$dir/workers.json" "$dir/metrics.txt" "$workers" <<'EOF' || echo -
import json, re, sys
timed = {"52:54:00:78:00:%02x" % i for i in range(1, int(sys.argv[3]) + 1)}
names = {x["name"] for x in json.load(open(sys.argv[1]))["items"] if x.get("mac", "").lower() in timed}
total = 0.0
for line in open(sys.argv[2]):
    m = re.match(r'apiary_lun_read_bytes_total\{.*volume="fleet\.([^."]+)\.[^"]*".*\} (\S+)', line)
    if m and m.group(1) in names:
        total += float(m.group(2))
print("%.1f" % (total / 1048576))
EOF
)
        awk '/^apiary_lun_(read|written)_bytes_total/ { printf "    %s %.1f MiB\n", $1, $2 / 1048576 }' "$dir/metrics.txt" >&2
    fi
    stop_apiary
    rm -rf "$dir/big"
}

# ---------------------------------------------------------------- B: dnsmasq + tgt
run_b() { # RUN DIR
    local run=$1 dir=$2 i tftp=$2/tftp
    mkdir -p "$dir/big" "$tftp"
    cp "$ipxe_dir/snponly.efi" "$tftp/"
    [[ -f $ipxe_dir/undionly.kpxe ]] && cp "$ipxe_dir/undionly.kpxe" "$tftp/"
    printf '#!ipxe\nchain w-${mac:hexhyp}.ipxe\n' >"$tftp/boot.ipxe"
    for ((i = first_vm; i <= workers; i++)); do
        cp --reflink=auto --sparse=always "$image" "$dir/big/lun$i.img"
        truncate -s "$data_size" "$dir/big/data$i.img" # blank, as Apiary's new data LUN
    done
    sync
    # tgtd's control socket lives in /var/run/tgtd (not in the namespace): a port nobody uses
    tgt_ctl=$((3300 + $$ % 6000)) # tgtd takes small control ports only
    while [[ -e /var/run/tgtd/socket.$tgt_ctl || -e /var/run/tgtd/socket.$tgt_ctl.lock ]]; do tgt_ctl=$((tgt_ctl + 1)); done
    ip netns exec "$ns" tgtd -f -C "$tgt_ctl" --iscsi portal=10.78.0.1:3260 >"$dir/tgtd.log" 2>&1 &
    tgtd_pid=$!
    for _ in $(seq 1 50); do tgtadm_ --op show --mode system >/dev/null 2>&1 && break; sleep 0.1; done
    alive "$tgtd_pid" || die "tgtd stopped: $(tail -3 "$dir/tgtd.log")"
    local iqn=iqn.2026-11.dev.apiary.bench
    for ((i = first_vm; i <= workers; i++)); do
        local s r tid=$((i + 1)); s=$(secret); r=$(secret)
        tgtadm_ --op new --mode target --tid "$tid" -T "$iqn:target.worker$i"
        tgtadm_ --op new --mode logicalunit --tid "$tid" --lun 1 -b "$dir/big/lun$i.img"
        # LUN 2: the data volume; the image's DATA_LUN=auto takes the disk beside the root
        tgtadm_ --op new --mode logicalunit --tid "$tid" --lun 2 -b "$dir/big/data$i.img"
        tgtadm_ --op new --mode account --user "worker$i" --password "$s"
        tgtadm_ --op bind --mode account --tid "$tid" --user "worker$i"
        # mutual CHAP, as Apiary's scripts: the target proves itself too
        tgtadm_ --op new --mode account --user "target$i" --password "$r"
        tgtadm_ --op bind --mode account --tid "$tid" --user "target$i" --outgoing
        tgtadm_ --op bind --mode target --tid "$tid" -I ALL
        local m; m=$(mac_of "$i")
        cat >"$tftp/w-${m//:/-}.ipxe" <<EOF
#!ipxe
set initiator-iqn $iqn:worker$i
set username worker$i
set password $s
set reverse-username target$i
set reverse-password $r
sanboot iscsi:10.78.0.1::3260:1:$iqn:target.worker$i || goto failed
:failed
echo SANBOOT-FAILED errno=\${errno}
sleep 3
poweroff || exit 1
EOF
    done
    ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --group=root \
        --interface=br0 --bind-interfaces --dhcp-range=10.78.0.0,proxy,255.255.255.0 \
        --enable-tftp --tftp-root="$tftp" --dhcp-userclass=set:ipxe,iPXE \
        --pxe-service=tag:!ipxe,X86-64_EFI,"snponly",snponly.efi --pxe-service=tag:ipxe,X86-64_EFI,"script",boot.ipxe \
        --pxe-service=tag:!ipxe,x86PC,"undionly",undionly --pxe-service=tag:ipxe,x86PC,"script",boot.ipxe \
        --log-dhcp --log-facility=- >"$dir/dnsmasq.log" 2>&1 &
    dnsmasq_pid=$!
    sleep 0.5
    alive "$dnsmasq_pid" || die "dnsmasq stopped: $(tail -3 "$dir/dnsmasq.log")"
    sleep "$settle"
    server_pids=("$tgtd_pid" "$dnsmasq_pid")
    boot_run "$run" B "$dir"
    stop_dnsmasq
    stop_tgtd
    rm -rf "$dir/big"
}

# boot_run RUN SIDE DIR: the warm-up boot (--warm), then the timed VMs, their figures, one RESULT
# run line (RUN_PENDING); server_pids are the boot services whose CPU time is counted
boot_run() {
    local run=$1 side=$2 dir=$3 l0 l1 others c0 c1 rchar0=
    read_mib=-
    if ((warm)); then
        note "run $run $side: warm-up boot of vm0"
        start_vms "$dir" 0 0
        wait_vms "$dir" 0 0
        grep -q 'APIARY-WORKER-UP' "$dir/serial0.log" ||
            die "the warm-up boot of run $run ($side) missed its marker: $(tail -n 3 "$dir/serial0.log")"
        echo "RESULT warmup run=$run side=$side up=$(grep -m1 'APIARY-WORKER-UP' "$dir/serial0.log" | awk '{ print $1 }')"
    fi
    others=$(other_qemu)
    l0=$(load1)
    [[ $side == B ]] && rchar0=$(awk '/^rchar/ { print $2 }' "/proc/$tgtd_pid/io")
    note "run $run $side: $workers VM(s) power on; load $l0; $others other QEMU process(es) on the machine"
    if ((pcap)); then
        ip netns exec "$ns" tcpdump -i br0 -s 160 -w "$dir/boot.pcap" 'tcp port 3260 or tcp port 8080 or udp' \
            >"$dir/tcpdump.log" 2>&1 &
        tcpdump_pid=$!
        sleep 1
    fi
    c0=$(cpu_s "${server_pids[@]}")
    thread_cpu "${server_pids[@]}" >"$dir/server-threads-0.txt"
    start_vms "$dir" 1 "$workers"
    wait_vms "$dir" 1 "$workers"
    c1=$(cpu_s "${server_pids[@]}")
    # where the boot services' CPU went, by thread name (JIT compilers, GC, event loops, ...):
    # since the server's start, and within the timed boots only
    thread_cpu "${server_pids[@]}" >"$dir/server-threads.txt"
    awk 'NR == FNR { b[$2] = $1; next } { d = $1 - b[$2]; if (d > 0.005) printf "%.2f %s\n", d, $2 }' \
        "$dir/server-threads-0.txt" "$dir/server-threads.txt" | sort -rn >"$dir/server-threads-boot.txt"
    note "  server CPU by thread during the boots (s): $(head -n 6 "$dir/server-threads-boot.txt" | tr '\n' ' ')"
    note "  server CPU by thread (since start, s): $(head -n 6 "$dir/server-threads.txt" | tr '\n' ' ')"
    stop_pid "$tcpdump_pid" 10
    tcpdump_pid=
    l1=$(load1)
    if [[ $side == B ]] && alive "$tgtd_pid"; then
        read_mib=$(awk -v a="$rchar0" '/^rchar/ { printf "%.1f", ($2 - a) / 1048576 }' "/proc/$tgtd_pid/io")
    fi
    report_vms "$run" "$side" "$dir"
    if ((pcap)) && [[ -s $dir/boot.pcap ]]; then
        react=$(python3 - "$dir/boot.pcap" <<'EOF' || echo "-"
import struct, sys
f = open(sys.argv[1], "rb")
gh = f.read(24)
magic = struct.unpack("<I", gh[:4])[0]
e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
scale = 1e9 if magic in (0xa1b23c4d, 0x4d3cb2a1) else 1e6
pending, lats = {}, []
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    ts, frac, caplen, _ = struct.unpack(e + "IIII", h)
    d = f.read(caplen)
    if len(d) < 34 or d[12:14] != b"\x08\x00" or d[23] != 6:
        continue
    ihl = (d[14] & 15) * 4
    tot = struct.unpack(">H", d[16:18])[0]
    tcp = d[14 + ihl:]
    sp, dp = struct.unpack(">HH", tcp[:4])
    if tot - ihl - (tcp[12] >> 4) * 4 <= 0:
        continue
    t = ts + frac / scale
    if dp == 3260:
        pending.setdefault(sp, t)          # the target owes this connection an answer from t
    elif sp == 3260 and dp in pending:
        lats.append(t - pending.pop(dp))
lats.sort()
q = lambda x: lats[min(len(lats) - 1, int(x * len(lats)))] * 1000
print("%d %.1f %.2f %.2f %.1f" % (len(lats), sum(lats), q(.5), q(.9), q(.99)) if lats else "-")
EOF
)
        echo "RESULT target-latency run=$run side=$side $(awk '{ if (NF == 5) printf "n=%s sum_s=%s p50_ms=%s p90_ms=%s p99_ms=%s", $1, $2, $3, $4, $5; else print "none" }' <<<"$react")"
    fi
    run_line+=" $l0 $l1 $others $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", b - a }')"
    RUN_PENDING=$run_line
}

# ---------------------------------------------------------------- the runs: A, B, A, B, ...
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# $(date -u +%FT%TZ) boot-bench: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; $("$java" -version 2>&1 | sed -n 1p)"
echo "# image $image ($(du -m "$image" | cut -f1) MiB allocated); fw=$fw workers=$workers rounds=$rounds mem=${mem}M cpu=$cpu timeout=${timeout}s warm-up boot: $( ((warm)) && echo yes || echo no)"
echo "# work directory $work ($(df -PT "$work" | awk 'NR == 2 { print $2 }')); load: $load_start"
deadline=$((SECONDS + rounds * 2 * (timeout + 300)))
run=0
for ((r = 1; r <= rounds; r++)); do
    for side in A B; do
        ((SECONDS < deadline)) || die "the overall bound ($((rounds * 2 * (timeout + 300))) s) was reached"
        run=$((run + 1))
        dir=$work/run$run-$side
        mkdir -p "$dir"
        if [[ $side == A ]]; then run_a "$run" "$dir"; else run_b "$run" "$dir"; fi
        read -r _ _ ok med mx wall gcpu l0 l1 others scpu <<<"$RUN_PENDING"
        echo "RESULT run=$run side=$side workers=$workers ok=$ok up_median=$med up_max=$mx last_up=$wall load_start=$l0 load_end=$l1 other_qemu=$others server_cpu_s=$scpu guest_cpu_s=$gcpu read_MiB=$read_mib"
        echo "$run $side $ok $med $mx $wall $l0 $l1 $others $read_mib $scpu $gcpu" >>"$runs"
    done
done

# ---------------------------------------------------------------- tables
echo
echo "## Boot: $workers worker(s), $fw$( ((warm)) && echo ", after a warm-up boot"), A = Apiary (proxyDHCP + TFTP + HTTP + target), B = dnsmasq + tgt"
echo
echo "Seconds from QEMU's start to \`APIARY-WORKER-UP\` on the serial console."
echo
echo "| run | side | ok | per-VM up (s) | median | last up | load at start | load at end | other QEMUs | server CPU s | guest CPU s | read MiB |"
echo "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
while read -r rn sd ok med mx wall l0 l1 oth rm scpu gcpu; do
    per=$(awk -v r="$rn" '{ split($1, a, "="); if (a[2] != r) next; for (i = 2; i <= NF; i++) if ($i ~ /^up=/) { sub(/^up=/, "", $i); printf "%s%s", sep, $i; sep = " " } }' "$results")
    echo "| $rn | $sd | $ok/$workers | $per | $med | $wall | $l0 | $l1 | $oth | $scpu | $gcpu | $rm |"
done <"$runs"
echo
side_med() { awk -v s="$1" -v c="$2" '$2 == s && $c != "-" { print $c }' "$runs" | median; }
am=$(side_med A 4) bm=$(side_med B 4) aw=$(side_med A 6) bw=$(side_med B 6)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
echo "| | A (Apiary) | B (dnsmasq + tgt) | **A/B** |"
echo "|---|---:|---:|---:|"
echo "| median over runs of the run's median up (s) | $am | $bm | **$(ratio "$am" "$bm")** |"
echo "| median over runs of the last VM up (s) | $aw | $bw | **$(ratio "$aw" "$bw")** |"
echo "| median server CPU s per run | $(side_med A 11) | $(side_med B 11) | $(ratio "$(side_med A 11)" "$(side_med B 11)") |"
echo "| median guest CPU s per run (all its VMs) | $(side_med A 12) | $(side_med B 12) | $(ratio "$(side_med A 12)" "$(side_med B 12)") |"
echo "| runs | $(awk '$2 == "A"' "$runs" | wc -l) | $(awk '$2 == "B"' "$runs" | wc -l) | |"
echo
echo "Milestones, median over every boot of the side (s from QEMU's start):"
echo
hdr="| side"; sep="|---"
for m in "${milestones[@]}"; do hdr+=" | ${m%%:*}"; sep+="|---:"; done
echo "$hdr |"; echo "$sep|"
for s in A B; do
    row="| $s"
    for m in "${milestones[@]}"; do
        row+=" | $(awk -v s="side=$s" -v k="${m%%:*}=" '$2 == s && $0 ~ /status=ok/ { for (i = 1; i <= NF; i++) if (index($i, k) == 1) { v = substr($i, length(k) + 1); if (v != "-") print v } }' "$results" | median)"
    done
    echo "$row |"
done
if [[ -s $work/timelines.txt ]]; then
    echo
    echo "A's boot timelines (GET /api/v1/workers/<name>/boots; s from the boot's first phase):"
    echo
    echo '```'
    cat "$work/timelines.txt"
    echo '```'
fi
echo
echo "Load before: $load_start; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Commands:"
echo
cmds+=("A: java -jar apiary.jar store --dir DATA/store import golden IMG && ... snapshot golden@v1; ip netns exec $ns java -jar apiary.jar serve --data DATA --config apiary.yaml   # target 10.78.0.1:3260, fleet auto golden@v1 data-size $data_size, pxe proxy 10.78.0.1 br0")
cmds+=("B: cp --reflink=auto --sparse=always IMG lunN.img; truncate -s $data_size dataN.img; ip netns exec $ns tgtd -f -C CTL --iscsi portal=10.78.0.1:3260; tgtadm: target N, LUN 1 = lunN.img, LUN 2 = dataN.img, account workerN + outgoing account targetN (mutual CHAP), -I ALL")
cmds+=("B: ip netns exec $ns dnsmasq --port=0 --interface=br0 --bind-interfaces --dhcp-range=10.78.0.0,proxy,255.255.255.0 --enable-tftp --tftp-root=TFTP --dhcp-userclass=set:ipxe,iPXE --pxe-service=tag:!ipxe,X86-64_EFI,snponly,snponly.efi --pxe-service=tag:ipxe,X86-64_EFI,script,boot.ipxe (+ x86PC)")
cmds+=("VM: ip netns exec $ns qemu-system-x86_64 -accel tcg -cpu $cpu -smp 1 -m $mem -nodefaults $([[ $fw == uefi ]] && echo '-machine q35 -drive if=pflash,...OVMF_CODE_4M.fd -drive if=pflash,...vars' || echo '-fw_cfg name=etc/sercon-port,...') -netdev tap,ifname=tapN -device virtio-net-pci,mac=52:54:00:78:00:0N$([[ $fw == uefi ]] && echo ',romfile=') -serial stdio")
for c in "${cmds[@]}"; do echo "    $c"; done
((failures == 0)) || { note "$failures boot(s) missed the marker"; exit 1; }
