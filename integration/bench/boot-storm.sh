#!/usr/bin/env bash
# boot-storm.sh - boot-storm A/B: N workers boot at once, each from its own LUN.
#   tgt:    one tgtd on 127.0.0.1:3280, LUNs 1..N, each a FULL copy of the golden image (rdwr)
#   Apiary: store import golden, snapshot golden@v1, clones w00..wNN, exported as LUNs 0..N-1
#           on 127.0.0.1:3281
# Both with one-way CHAP. boot-storm (libiscsi) replays the same boot read pattern on every
# session; the sides alternate tgt, Apiary for --rounds rounds. Goal: Apiary wall <= 0.5x tgt.
#
# Usage: boot-storm.sh [--sessions 50] [--image-mib 256] [--span-mib 256] [--mib 100] [--qd 4]
#                      [--rounds 3] [--seed 1] [--timeout 900] [--only tgt|apiary] [--no-verify]
#   --image-mib  golden image size; shrunk (then --sessions) with a message if /dev/shm or RAM
#                cannot hold golden + N tgt copies + Apiary's imported volume + 1 GiB
#   --span-mib   the pattern reads within the first SPAN MiB of each LUN (<= image)
#   --mib        MiB read per session;  --qd  reads in flight per session
#   round 0 is an untimed warm-up (the JVM's JIT) per side; it runs boot-storm -V, which checks
#   every byte read against the golden pattern, unless --no-verify
#
# Prints a markdown table (round, wall s, ratio Apiary/tgt, slowest session, target CPU s =
# utime+stime of tgtd / the Apiary java process over the run), medians, load before/after and
# the commands. Everything lives in /dev/shm/boot-storm.PID and is removed at exit, together
# with the tgtd and java processes started here (by PID). Exit 0 ok, 1 a run failed, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
die() { echo "boot-storm.sh: $*" >&2; exit 1; }
note() { echo "boot-storm.sh: $*" >&2; }

sessions=50 image=256 span=256 mib=100 qd=4 rounds=3 seed=1 timeout_s=900 only= verify=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --sessions) sessions=${2:?}; shift 2 ;;
        --image-mib) image=${2:?}; shift 2 ;;
        --span-mib) span=${2:?}; shift 2 ;;
        --mib) mib=${2:?}; shift 2 ;;
        --qd) qd=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --seed) seed=${2:?}; shift 2 ;;
        --timeout) timeout_s=${2:?}; shift 2 ;;
        --only) only=${2:?}; shift 2 ;;
        --no-verify) verify=0; shift ;;
        *) usage ;;
    esac
done
for v in "$sessions" "$image" "$span" "$mib" "$qd" "$rounds" "$seed" "$timeout_s"; do
    [[ $v =~ ^[0-9]+$ && $v -ge 1 ]] || usage
done
[[ -z $only || $only == tgt || $only == apiary ]] || usage
((sessions <= 250 && rounds <= 50 && span >= 4)) || usage

tgt_port=3280 apiary_port=3281
user=storm secret=bootstormsecret1
tgt_iqn=iqn.2026-11.dev.apiary:boot-storm-tgt
apiary_iqn=iqn.2026-11.dev.apiary:boot-storm-apiary
initiator=iqn.2026-11.dev.apiary:worker
sides=()
[[ $only != apiary ]] && sides+=(tgt)
[[ $only != tgt ]] && sides+=(apiary)

# --- fit into /dev/shm and RAM: golden + tgt copies + Apiary's imported volume + 1 GiB ---
shm_free=$(df -Pm /dev/shm | awk 'NR == 2 { print $4 }')
mem_free=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
room=$((shm_free < mem_free ? shm_free : mem_free))
tgt_on=$([[ $only == apiary ]] && echo 0 || echo 1) apiary_on=$([[ $only == tgt ]] && echo 0 || echo 1)
need() { echo $(($1 * (1 + tgt_on * $2 + apiary_on) + 1024)); } # image_mib sessions -> MiB
want_image=$image want_sessions=$sessions
while (($(need "$image" "$sessions") > room && image > 64)); do image=$((image / 2)); done
while (($(need "$image" "$sessions") > room && sessions > 1)); do sessions=$((sessions - 1)); done
(($(need "$image" "$sessions") <= room)) || die "only $room MiB free in /dev/shm/RAM; cannot fit even one copy"
if ((image != want_image || sessions != want_sessions)); then
    note "WARNING: $want_sessions x $want_image MiB does not fit in $room MiB (free /dev/shm / MemAvailable);"
    note "WARNING: running $sessions sessions with a $image MiB image instead"
fi
((span > image)) && { note "span $span MiB > image; using $image MiB"; span=$image; }

# --- Apiary's store CLI (builds the jar if needed). picocli prints the top-level help with exit 0
# for an unknown "store", so look for the subcommand names.
if ((apiary_on)); then
    help=$("$root/apiary" store --help 2>&1 || true)
    [[ $help == *import* && $help == *clone* ]] ||
        die "'$root/apiary store --help' does not list import/clone: no store CLI yet (use --only tgt)"
fi

# --- build the client ---
bin=$here/target/boot-storm
if [[ ! -x $bin || $here/boot-storm.c -nt $bin ]]; then
    mkdir -p "$here/target"
    gcc -O2 -Wall -o "$bin" "$here/boot-storm.c" -liscsi
fi

work=/dev/shm/boot-storm.$$
tgt_pid= apiary_pid=
adm() { tgtadm -C "$tgt_port" --lld iscsi "$@"; }
stop_tgt() {
    [[ -n $tgt_pid && -d /proc/$tgt_pid ]] || return 0
    adm --mode target --op delete --tid 1 --force >/dev/null 2>&1 || true
    adm --mode system --op delete >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do [[ -d /proc/$tgt_pid ]] || break; sleep 0.1; done
    [[ -d /proc/$tgt_pid ]] && { note "tgtd $tgt_pid did not exit, SIGKILL"; kill -9 "$tgt_pid" 2>/dev/null || true; }
    wait "$tgt_pid" 2>/dev/null || true
}
stop_apiary() {
    [[ -n $apiary_pid && -d /proc/$apiary_pid ]] || return 0
    kill "$apiary_pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do [[ -d /proc/$apiary_pid ]] || break; sleep 0.1; done
    [[ -d /proc/$apiary_pid ]] && { note "apiary $apiary_pid did not exit, SIGKILL"; kill -9 "$apiary_pid" 2>/dev/null || true; }
    wait "$apiary_pid" 2>/dev/null || true
}
cleanup() {
    stop_apiary
    stop_tgt
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"
masked() { sed -E 's#//([^%@/ ]*)%[^@ ]*@#//\1%***@#g' <<<"$*"; }
cmds=()

# --- golden image: every 8-byte word = f(block, word), the pattern boot-storm -V checks ---
golden=$work/golden.img
"$bin" -G "$golden" -S "$image"
cmds+=("$bin -G $golden -S $image")
note "golden image $golden: $image MiB; $sessions sessions x $mib MiB, span $span MiB, qd $qd"

# --- tgt: N full copies, one target, LUNs 1..N ---
tgt_urls=()
if [[ $only != apiary ]]; then
    [[ -z $(ss -ltnH "sport = :$tgt_port") ]] || die "port $tgt_port is already in use"
    mkdir "$work/tgt"
    for ((i = 1; i <= sessions; i++)); do cp "$golden" "$work/tgt/lun-$i.img"; done
    setsid tgtd -f -C "$tgt_port" --iscsi "portal=127.0.0.1:$tgt_port" </dev/null >"$work/tgtd.log" 2>&1 &
    tgt_pid=$!
    for ((i = 0; i < 100; i++)); do
        [[ -d /proc/$tgt_pid ]] || { cat "$work/tgtd.log" >&2; die "tgtd exited"; }
        [[ -n $(ss -ltnpH "sport = :$tgt_port" | grep "pid=$tgt_pid,") ]] &&
            adm --mode target --op show >/dev/null 2>&1 && break
        sleep 0.1
    done
    addrs=$(ss -ltnpH | awk -v p="pid=$tgt_pid," 'index($0, p) { print $4 }' | sort -u | tr '\n' ' ')
    [[ $addrs == "127.0.0.1:$tgt_port " ]] || die "tgtd $tgt_pid listens on [$addrs], expected 127.0.0.1:$tgt_port"
    adm --mode target --op new --tid 1 --targetname "$tgt_iqn"
    for ((i = 1; i <= sessions; i++)); do
        adm --mode logicalunit --op new --tid 1 --lun "$i" --backing-store "$work/tgt/lun-$i.img" --bstype rdwr
        tgt_urls+=("iscsi://$user%$secret@127.0.0.1:$tgt_port/$tgt_iqn/$i")
    done
    adm --mode target --op bind --tid 1 --initiator-address ALL
    adm --mode account --op new --user "$user" --password "$secret"
    adm --mode account --op bind --tid 1 --user "$user"
    cmds+=("for i in 1..$sessions: cp $golden $work/tgt/lun-\$i.img"
        "tgtd -f -C $tgt_port --iscsi portal=127.0.0.1:$tgt_port   (pid $tgt_pid)"
        "tgtadm ... --op new --tid 1 --targetname $tgt_iqn; LUN 1..$sessions --bstype rdwr; CHAP $user:***")
    note "tgtd $tgt_pid: $tgt_iqn, LUNs 1..$sessions on 127.0.0.1:$tgt_port"
fi

# --- Apiary: import, snapshot, N clones, one export ---
apiary_urls=()
if [[ $only != tgt ]]; then
    [[ -z $(ss -ltnH "sport = :$apiary_port") ]] || die "port $apiary_port is already in use"
    store=$work/store
    st() { timeout 600 "$root/apiary" store --dir "$store" "$@" >>"$work/store.log" 2>&1 || { cat "$work/store.log" >&2; die "apiary store $* failed"; }; }
    st import golden "$golden"
    st snapshot golden@v1
    vols=()
    for ((i = 0; i < sessions; i++)); do
        st clone golden@v1 "$(printf 'w%02d' "$i")"
        vols+=("vol:$(printf 'w%02d' "$i")")
    done
    source "$root/scripts/find-jdk.sh"
    export_cmd=("$JAVA_HOME/bin/java" ${APIARY_JAVA_OPTS:-} -jar "$root/admin-api/target/apiary.jar" export
        --portal "127.0.0.1:$apiary_port" --iqn "$apiary_iqn" --chap "$user:$secret" --store "$store" "${vols[@]}")
    "${export_cmd[@]}" >"$work/apiary.out" 2>"$work/apiary.err" &
    apiary_pid=$!
    for ((i = 0; i < 480; i++)); do
        [[ -d /proc/$apiary_pid ]] || { cat "$work/apiary.err" >&2; die "apiary export exited"; }
        (($(grep -c '^ready ' "$work/apiary.out") >= sessions)) && break
        sleep 0.5
    done
    (($(grep -c '^ready ' "$work/apiary.out") >= sessions)) || die "apiary export: not all $sessions LUNs ready after 240 s"
    mapfile -t apiary_urls < <(sed -n "s|^ready iscsi://|iscsi://$user%$secret@|p" "$work/apiary.out" | head -n "$sessions")
    cmds+=("apiary store --dir $store import golden $golden; snapshot golden@v1; clone golden@v1 w00..w$(printf %02d $((sessions - 1)))"
        "$(sed "s/$user:$secret/$user:***/; s/ vol:w00 .* vol:/ vol:w00 ... vol:/" <<<"${export_cmd[*]}")   (pid $apiary_pid)")
    note "apiary $apiary_pid: $apiary_iqn, LUNs 0..$((sessions - 1)) on 127.0.0.1:$apiary_port"
fi

# --- runs ---
hz=$(getconf CLK_TCK)
results=$work/results.tsv # side round wall slowest cpu_s errors rc
declare -A shown
cpu_ticks() { local s; s=$(<"/proc/$1/stat") && s=${s##*) } && awk '{ print $12 + $13 }' <<<"$s"; }
field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\2/p" <<<"$2" | tail -n 1; }
run() { # side round [-V]
    local side=$1 r=$2 pid out=$work/run-$1-$2 rc=0 c0 c1 line cpu
    local -n urls=${side}_urls
    pid=$([[ $side == tgt ]] && echo "$tgt_pid" || echo "$apiary_pid")
    local opts=(-q "$qd" -s "$seed" -m "$mib" -S "$span" -t "$timeout_s" -i "$initiator" ${3:-})
    if [[ -z ${shown[$side${3:-}]:-} ]]; then
        shown[$side${3:-}]=1
        cmds+=("$bin ${opts[*]} $(masked "${urls[0]}") ... (${#urls[@]} URLs, one session each)")
    fi
    c0=$(cpu_ticks "$pid")
    timeout -s KILL $((timeout_s + 60)) "$bin" "${opts[@]}" "${urls[@]}" >"$out" 2>"$out.err" || rc=$?
    c1=$(cpu_ticks "$pid")
    line=$(grep '^sessions=' "$out" || echo "wall_s=- slowest_s=- errors=FAIL")
    cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$r" "$(field wall_s "$line")" "$(field slowest_s "$line")" \
        "$cpu" "$(field errors "$line")" "$rc" >>"$results"
    note "$side round $r$( ((r)) || echo " (warm-up${3:+, verify})"): $line target_cpu_s=$cpu rc=$rc"
    [[ $rc == 0 ]] || head -n 5 "$out.err" >&2
}

load_before=$(uptime)
for side in "${sides[@]}"; do run "$side" 0 "$( ((verify)) && echo -V)"; done
for ((r = 1; r <= rounds; r++)); do
    for side in "${sides[@]}"; do run "$side" "$r"; done
done
load_after=$(uptime)

# --- report ---
get() { awk -F'\t' -v s="$1" -v r="$2" -v c="$3" '$1 == s && $2 == r { print $c }' "$results"; }
median() { # side column
    awk -F'\t' -v s="$1" -v c="$2" '$1 == s && $2 > 0 && $7 == "0" { print $c }' "$results" | sort -g |
        awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
                                  printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v t="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && t + 0 > 0) printf "%.2f", a / t; else print "-" }'; }
or_dash() { [[ -n $1 ]] && echo "$1" || echo -; }

echo
echo "## Boot storm: $sessions sessions x $mib MiB (span $span MiB of a $image MiB image, qd $qd, seed $seed)"
echo
echo "$(date -u +%FT%TZ), $(nproc) cores, everything on /dev/shm and 127.0.0.1. wall = first login to last"
echo "logout; slowest = latest session's last read; CPU = target utime+stime (s) during the run."
echo
echo "| round | tgt wall s | Apiary wall s | ratio Apiary/tgt | tgt slowest s | Apiary slowest s | tgt CPU s | Apiary CPU s | errors tgt/Apiary |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for ((r = 0; r <= rounds; r++)); do
    tw=$(or_dash "$(get tgt "$r" 3)") aw=$(or_dash "$(get apiary "$r" 3)")
    echo "| $( ((r)) && echo "$r" || echo "0 (warm-up$( ((verify)) && echo ", -V"), not in medians)") | $tw | $aw | $(ratio "$aw" "$tw")" \
        "| $(or_dash "$(get tgt "$r" 4)") | $(or_dash "$(get apiary "$r" 4)")" \
        "| $(or_dash "$(get tgt "$r" 5)") | $(or_dash "$(get apiary "$r" 5)")" \
        "| $(or_dash "$(get tgt "$r" 6)")/$(or_dash "$(get apiary "$r" 6)") |"
done
tm=$(median tgt 3) am=$(median apiary 3)
echo "| **median** | **$tm** | **$am** | **$(ratio "$am" "$tm")** | $(median tgt 4) | $(median apiary 4)" \
    "| $(median tgt 5) | $(median apiary 5) | |"
echo
rm_=$(ratio "$am" "$tm")
if [[ $rm_ != - ]]; then
    echo "Goal Apiary <= 0.5x tgt: $(awk -v x="$rm_" 'BEGIN { print (x <= 0.5 ? "MET" : "not met") }') (median ratio $rm_)"
    echo
fi
echo "load before: $load_before"
echo "load after:  $load_after"
echo
echo "Commands:"
printf '    %s\n' "${cmds[@]}"
echo
echo "BOOTSTORM sessions=$sessions mib=$mib span=$span image=$image qd=$qd tgt_wall_median=$tm apiary_wall_median=$am ratio=$rm_"
awk -F'\t' '$6 != "0" || $7 != "0" { bad = 1 } END { exit bad }' "$results"
