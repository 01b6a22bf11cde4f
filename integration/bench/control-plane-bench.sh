#!/usr/bin/env bash
# control-plane-bench.sh - the control-plane benchmarks of docs/benchmarks.md, against a real
# `apiary serve` on 127.0.0.1 (pxe dhcp: off, so the boot HTTP service serves scripts without a
# DHCP sighting, as ServeIT fetches them).
#
#   enroll  Enroll latency. Golden images of each of --sizes (sparse files with 8 MiB of random
#           data at five places, imported and sealed with the store CLI) sit in one store; each
#           round sets the fleet's image to each size in turn (PUT /api/v1/fleet/image, order
#           alternating by round) and enrolls one unknown MAC through GET /boot/<mac>, timed
#           (a) to the script returned: row, root clone, data volume, export table published;
#           (b) on to libiscsi's first successful login with exactly the script's initiator name,
#           CHAP and mutual CHAP (iscsi-inq; its process start included). Round 0 is an untimed
#           warm-up; --n timed rounds. Goal: < 1 s, flat in image size.
#   list    GET /api/v1/workers with --workers workers. Populated through the boot path only:
#           --ready machines enrolled READY (enrollment: auto), then the rest PENDING (the server
#           restarted with enrollment: approve), never by writing rows behind the server's back.
#           Every READY worker's three volume files stay open while exported (root data+journal,
#           data volume), so --ready is capped below RLIMIT_NOFILE/3. Then per round each side of
#           --a/--b (a jar) serves that data directory in turn, sides alternating, and is timed on
#           five list cases (limit 100 from the start, after=worker5, after=worker9; limit 500 from
#           the start and after=worker9; each page checked name by name first) and two baselines
#           (GET /api/v1/fleet without a token: 401; with one: the cost of any API request), 50
#           untimed requests then --requests timed ones (or --case-secs), over kept-alive HTTPS
#           (curl -K, 50 requests per connection; latency = time_total - time_appconnect), plus
#           one whole walk by pages of 500 that must see every name once, in order.
#   all     both.
#
# Usage: control-plane-bench.sh enroll|list|all [--dir DIR] [--jar JAR] [--sizes "1G 4G"] [--n 50]
#            [--workers 10000] [--ready 5000] [--a NAME=JAR] [--b NAME=JAR] [--rounds 3]
#            [--requests 500] [--case-secs 60] [--populate-secs 5400] [--keep] [--populated DIR]
#   --dir   work directory (default /tmp/apiary-cp-bench.PID: disk, as a server's data would be);
#           removed at exit with the servers started here (by PID) unless --keep
#   --populated DIR  list: time the data directory a --keep run left in DIR (DIR/list, DIR/approve.yaml)
#           instead of populating again; DIR is left as it is
#   --jar   the apiary.jar that imports, populates and is timed for enroll (default: the
#           repository's, built by ./apiary when stale); --a/--b default to it, one side
#
# Prints markdown tables (median, p99 by nearest rank, max; across rounds the median of each),
# load before/after, and the commands. Exit 0 ok, 1 a run failed, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
die() { echo "control-plane-bench.sh: $*" >&2; exit 1; }
note() { echo "control-plane-bench.sh: $*" >&2; }

what=${1:-}; [[ $what == enroll || $what == list || $what == all ]] || usage; shift
work= jar= sizes="1G 4G" n=50 workers=10000 ready=5000 rounds=3 requests=500 case_secs=60
populate_secs=5400 keep=0 side_a= side_b= populated=
while [[ $# -gt 0 ]]; do
    case $1 in
        --dir) work=${2:?}; shift 2 ;;
        --jar) jar=${2:?}; shift 2 ;;
        --sizes) sizes=${2:?}; shift 2 ;;
        --n) n=${2:?}; shift 2 ;;
        --workers) workers=${2:?}; shift 2 ;;
        --ready) ready=${2:?}; shift 2 ;;
        --a) side_a=${2:?}; shift 2 ;;
        --b) side_b=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --requests) requests=${2:?}; shift 2 ;;
        --case-secs) case_secs=${2:?}; shift 2 ;;
        --populate-secs) populate_secs=${2:?}; shift 2 ;;
        --keep) keep=1; shift ;;
        --populated) populated=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
for v in "$n" "$workers" "$rounds" "$requests" "$case_secs" "$populate_secs"; do
    [[ $v =~ ^[0-9]+$ && $v -ge 1 ]] || usage
done
[[ $ready =~ ^[0-9]+$ ]] && ((ready <= workers && n <= 1000 && rounds <= 20 && requests <= 100000)) || usage
for c in curl iscsi-inq iscsi-readcapacity16 python3 truncate; do
    command -v "$c" >/dev/null || die "$c is missing (curl, libiscsi-bin, python3, coreutils)"
done

source "$root/scripts/find-jdk.sh"
java="$JAVA_HOME/bin/java"
if [[ -z $jar ]]; then
    "$root/apiary" --help >/dev/null 2>&1 || true # builds admin-api/target/apiary.jar when stale
    jar=$root/admin-api/target/apiary.jar
fi
[[ -f $jar ]] || die "no jar $jar"
sides=() jars=()
for s in "${side_a:-apiary=$jar}" ${side_b:+"$side_b"}; do
    [[ $s == ?*=?* && -f ${s#*=} ]] || die "--a/--b want NAME=JAR with an existing jar: $s"
    sides+=("${s%%=*}") jars+=("${s#*=}")
done

work=${work:-/tmp/apiary-cp-bench.$$}
[[ -e $work ]] && die "$work exists; give a fresh --dir"
srv_pid=
stop_server() {
    [[ -n $srv_pid && -d /proc/$srv_pid ]] || { srv_pid=; return 0; }
    kill "$srv_pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do [[ -d /proc/$srv_pid ]] || break; sleep 0.1; done
    [[ -d /proc/$srv_pid ]] && { note "apiary $srv_pid did not stop in 60 s, SIGKILL"; kill -9 "$srv_pid" 2>/dev/null || true; }
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
}
cleanup() {
    stop_server
    if ((keep)); then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"
cmds=()

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; } # two $EPOCHREALTIMEs
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# n p50 p99 max of numbers on stdin (nearest rank), "0 - - -" when there are none
stats() {
    sort -g | awk '{ v[NR] = $1 }
        function at(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] }
        END { if (NR == 0) print "0 - - -"; else printf "%d %.1f %.1f %.1f\n", NR, at(0.5), at(0.99), v[NR] }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mib() { # 512M, 4G -> MiB
    [[ $1 =~ ^([0-9]+)([MG])$ ]] || die "size $1: want a number and M or G"
    [[ ${BASH_REMATCH[2]} == G || ${BASH_REMATCH[1]} -ge 64 ]] || die "size $1: at least 64M"
    if [[ ${BASH_REMATCH[2]} == G ]]; then echo $((BASH_REMATCH[1] * 1024)); else echo "${BASH_REMATCH[1]}"; fi
}
gib() { awk -v m="$1" 'BEGIN { if (m % 1024 == 0) printf "%d GiB", m / 1024; else printf "%d MiB", m }'; }

# golden DATA NAME MIB: a sparse MIB file with 8 MiB of random data at five places, imported into
# DATA's store and sealed as NAME@v1, before the server starts (the store CLI; docs/control-plane.md)
golden() {
    local data=$1 name=$2 size=$3 raw=$work/$2.raw
    truncate -s "${size}M" "$raw"
    for off in 0 $((size / 4)) $((size / 2)) $((size * 3 / 4)) $((size - 8)); do
        dd if=/dev/urandom of="$raw" bs=1M seek="$off" count=8 conv=notrunc status=none
    done
    "$java" -jar "$jar" store --dir "$data/store" import "$name" "$raw" >/dev/null 2>"$work/import-$name.log" ||
        die "import $name: $(tail -3 "$work/import-$name.log")"
    "$java" -jar "$jar" store --dir "$data/store" snapshot "$name@v1" >/dev/null
    rm -f "$raw"
}

# config FILE ENROLLMENT IMAGE ISCSI_PORT
config() {
    cat >"$1" <<EOF
target: {listen: "127.0.0.1:$4"}
fleet: {enrollment: $2, image: $3}
pxe: {dhcp: "off", address: 127.0.0.1, http-port: 0, tftp-port: 0}
api: {listen: "127.0.0.1:0"}
EOF
}

# start_server JAR DATA CONFIG LOG: sets srv_pid, boot (http://...), api (https://...)
start_server() {
    local out=$4.out
    "$java" -jar "$1" serve --data "$2" --config "$3" >"$out" 2>"$4.err" &
    srv_pid=$!
    local t0=$SECONDS line=
    while ((SECONDS - t0 < 900)); do
        line=$(grep -m1 '^ready ' "$out" 2>/dev/null || true)
        [[ -n $line ]] && break
        [[ -d /proc/$srv_pid ]] || die "apiary serve exited: $(tail -5 "$4.err")"
        sleep 0.2
    done
    [[ -n $line ]] || die "apiary serve not ready in 900 s: $(tail -5 "$4.err")"
    boot=$(sed -E 's/.* boot=([^ ]+).*/\1/' <<<"$line")
    api=$(sed -E 's/.* api=([^ ]+).*/\1/' <<<"$line")
    startup_s=$((SECONDS - t0))
}

# curl_config FILE TOKEN: the header every request of a curl -K batch carries (not in ps)
curl_config() { printf 'header = "Authorization: Bearer %s"\n' "$2" >"$1"; chmod 600 "$1"; }
api_call() { # METHOD PATH [JSON] -> body; dies on a status that is not 2xx
    local out=$work/api-call.out code
    code=$(curl -sS -o "$out" -w '%{http_code}' --cacert "$cert" -K "$work/auth.cfg" -X "$1" \
        ${3:+-H 'Content-Type: application/json' --data "$3"} "$api$2")
    [[ $code == 2?? ]] || die "$1 $2: HTTP $code $(head -c 300 "$out")"
    cat "$out"
}
token_for() { # DATA: a fresh token in $token, and auth.cfg with it
    token=$("$java" -jar "$jar" token create --data "$1" "bench-$$-$RANDOM" 2>/dev/null | tail -1)
    [[ $token == apy_* ]] || die "token create gave no token"
    curl_config "$work/auth.cfg" "$token"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; JDK $("$java" -version 2>&1 | sed -n 1p)"
echo "# work directory $work ($(df -PT "$work" | awk 'NR == 2 { print $2 }')); load: $load0"

# ---------------------------------------------------------------- enroll latency
run_enroll() {
    local data=$work/enroll size_list=() s m
    for s in $sizes; do size_list+=("$(mib "$s")"); done
    mkdir -p "$data"
    for m in "${size_list[@]}"; do golden "$data" "golden${m}m" "$m"; done
    local port; port=$(free_port)
    config "$work/enroll.yaml" auto "golden${size_list[0]}m@v1" "$port"
    start_server "$jar" "$data" "$work/enroll.yaml" "$work/serve-enroll"
    cert=$data/tls/api-cert.pem
    token_for "$data"
    cmds+=("java -jar $jar store --dir DATA/store import golden<S>m golden.raw && ... snapshot golden<S>m@v1   # per size: $sizes")
    cmds+=("java -jar $jar serve --data DATA --config enroll.yaml   # $(tr '\n' ' ' <"$work/enroll.yaml")")
    cmds+=("per round, per size: PUT $api/api/v1/fleet/image {\"image\":\"golden<S>m@v1\"}; curl $boot/boot/<new mac>;"
        "iscsi-inq -i <initiator-iqn> 'iscsi://<username>%<password>@<portal>/<target>/0?target_user=<reverse-username>&target_password=<reverse-password>'")
    local results=$work/enroll.txt i j mac script t0 t1 t2 code curl_s order=()
    : >"$results"
    local deadline=$((SECONDS + 1800)) seq=0
    for ((i = 0; i <= n; i++)); do
        ((SECONDS < deadline)) || { note "enroll: 1800 s bound reached after $((i - 1)) rounds"; break; }
        order=("${size_list[@]}")
        if ((i % 2)); then order=(); for ((j = ${#size_list[@]} - 1; j >= 0; j--)); do order+=("${size_list[j]}"); done; fi
        for m in "${order[@]}"; do
            api_call PUT /api/v1/fleet/image "{\"image\":\"golden${m}m@v1\"}" >/dev/null
            seq=$((seq + 1))
            mac=$(printf '52:54:00:e0:%02x:%02x' $((seq >> 8)) $((seq & 255)))
            t0=$EPOCHREALTIME
            read -r code curl_s < <(curl -sS -m 30 -o "$work/script" -w '%{http_code} %{time_total}\n' "$boot/boot/$mac")
            t1=$EPOCHREALTIME
            [[ $code == 200 ]] || die "GET /boot/$mac: HTTP $code $(head -c 300 "$work/script")"
            script=$(cat "$work/script")
            local ini usr pw rusr rpw target
            ini=$(sed -n 's/^set initiator-iqn //p' <<<"$script")
            usr=$(sed -n 's/^set username //p' <<<"$script")
            pw=$(sed -n 's/^set password //p' <<<"$script")
            rusr=$(sed -n 's/^set reverse-username //p' <<<"$script")
            rpw=$(sed -n 's/^set reverse-password //p' <<<"$script")
            target=$(sed -nE 's/^sanboot iscsi:([0-9.]+)::([0-9]+):0:([^ ]+).*/\1:\2\/\3/p' <<<"$script")
            [[ -n $ini && -n $pw && -n $rpw && -n $target ]] || die "no sanboot target in the script for $mac"
            local url="iscsi://$usr%$pw@$target/0?target_user=$rusr&target_password=$rpw"
            timeout 30 iscsi-inq -i "$ini" "$url" >"$work/inq.out" 2>&1 || die "iscsi-inq for $mac: $(tail -3 "$work/inq.out")"
            t2=$EPOCHREALTIME
            if ((i == 0)); then # untimed warm-up; check once that LUN 0 is this size's image
                timeout 30 iscsi-readcapacity16 -i "$ini" "$url" >"$work/cap.out" 2>&1 || die "readcapacity: $(cat "$work/cap.out")"
                grep -q "Total size:$((m * 1048576))\$" "$work/cap.out" ||
                    die "LUN 0 of $mac is not the $m MiB image: $(grep 'Total size' "$work/cap.out")"
                continue
            fi
            echo "$m $(awk -v c="$curl_s" 'BEGIN { printf "%.1f", c * 1000 }') $(ms "$t1" "$t2") $(ms "$t0" "$t2")" >>"$results"
        done
    done
    stop_server
    echo
    echo "## Enroll latency: unknown MAC to script, and on to a libiscsi login (ms; $((seq - ${#size_list[@]})) timed enrollments, one warm-up per size)"
    echo
    echo "| image | n | script median | script p99 | script max | + login median | **script to login median** | script to login p99 | script to login max |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for m in "${size_list[@]}"; do
        local cnt a1 a2 a3 b1 c1 c2 c3
        read -r cnt a1 a2 a3 < <(awk -v m="$m" '$1 == m { print $2 }' "$results" | stats)
        read -r _ b1 _ _ < <(awk -v m="$m" '$1 == m { print $3 }' "$results" | stats)
        read -r _ c1 c2 c3 < <(awk -v m="$m" '$1 == m { print $4 }' "$results" | stats)
        echo "| $(gib "$m") | $cnt | $a1 | $a2 | $a3 | $b1 | **$c1** | $c2 | $c3 |"
    done
    echo
    echo "Golden images: sparse, 8 MiB of random data at 0, 1/4, 1/2, 3/4 and the end; the store on $(df -PT "$work" | awk 'NR == 2 { print $2 }')."
    echo "\"script\" is curl's time_total for GET /boot/<mac>; \"script to login\" runs from before curl starts to iscsi-inq's"
    echo "exit after a successful login and INQUIRY (two process starts included)."
}

# ---------------------------------------------------------------- the worker list
populate() { # DATA CONFIG FROM TO LABEL: enroll MACs FROM..TO through GET /boot/<mac>, 100 per connection
    local data=$1 from=$3 to=$4 i j batch=100 cfg=$work/boot.cfg out=$work/boot.out
    start_server "$jar" "$data" "$2" "$work/serve-populate-$5"
    note "populate $5: workers $from..$to through $boot/boot/<mac> (server ready in ${startup_s} s)"
    local t0=$SECONDS
    for ((i = from; i <= to; i += batch)); do
        ((SECONDS - populate_t0 < populate_secs)) || die "populate: --populate-secs $populate_secs reached at worker $i"
        : >"$cfg"
        for ((j = i; j <= to && j < i + batch; j++)); do
            printf 'url = "%s/boot/52:54:00:%02x:%02x:%02x"\noutput = "/dev/null"\n' "$boot" \
                $((j >> 16 & 255)) $((j >> 8 & 255)) $((j & 255)) >>"$cfg"
        done
        curl -sS -m 600 -K "$cfg" -w '%{http_code} %{time_total}\n' >"$out" || die "populate: curl failed at $i"
        awk '$1 != 200 { bad++ } END { exit bad > 0 }' "$out" || die "populate: a boot script request failed near worker $i: $(cut -d' ' -f1 "$out" | sort | uniq -c | tr '\n' ' ')"
        awk -v at="$i" '{ print at, $2 * 1000 }' "$out" >>"$work/populate-$5.txt"
        if (((i - from) % 1000 == 0)); then
            note "  $5: at worker $i, median enroll $(awk '{ print $2 }' <(tail -n "$batch" "$work/populate-$5.txt") | median) ms ($((SECONDS - t0)) s)"
        fi
    done
    stop_server
}

run_list() {
    local data=$work/list port populate_s=
    local nofile; nofile=$(ulimit -Hn)
    if [[ $nofile != unlimited ]] && ((ready * 3 + 1000 > nofile)); then
        local was=$ready
        ready=$(((nofile - 1000) / 3))
        note "WARNING: $was READY workers keep $((was * 3)) files open; RLIMIT_NOFILE here is $nofile: $ready READY instead"
    fi
    if [[ -n $populated ]]; then
        [[ -d $populated/list && -f $populated/approve.yaml ]] || die "--populated $populated: no list/ and approve.yaml there"
        data=$populated/list
        cp "$populated/approve.yaml" "$work/approve.yaml"
        cp "$populated"/populate-*.txt "$work/" 2>/dev/null || true
        [[ -f $populated/populate-seconds ]] && populate_s=$(cat "$populated/populate-seconds")
        cmds+=("(the data directory $populated/list of an earlier run, populated as below)")
    else
        mkdir -p "$data"
        golden "$data" golden 64
        port=$(free_port)
        config "$work/auto.yaml" auto golden@v1 "$port"
        config "$work/approve.yaml" approve golden@v1 "$port"
        populate_t0=$SECONDS
        ((ready > 0)) && populate "$data" "$work/auto.yaml" 1 "$ready" auto
        ((workers > ready)) && populate "$data" "$work/approve.yaml" $((ready + 1)) "$workers" approve
        populate_s=$((SECONDS - populate_t0))
        echo "$populate_s" >"$work/populate-seconds"
    fi
    cmds+=("java -jar $jar serve ... enrollment: auto; curl -K (100 x url = \"BOOT/boot/52:54:00:xx:xx:xx\") for $ready machines")
    cmds+=("java -jar $jar serve ... enrollment: approve; the same for $((workers - ready)) more")
    cert=$data/tls/api-cert.pem
    token_for "$data"

    # NAME PATH. "unauth" has no token (401 before any hash: HTTPS on an open connection and the
    # router); "floor" is an authenticated request that does next to nothing (one settings row):
    # what every API request costs before the list itself (the token's Argon2id check, the worker
    # thread, the JSON)
    local cases=("unauth /api/v1/fleet" "floor /api/v1/fleet" "first100 /api/v1/workers?limit=100"
        "mid100 /api/v1/workers?limit=100&after=worker5" "deep100 /api/v1/workers?limit=100&after=worker9"
        "first500 /api/v1/workers?limit=500" "deep500 /api/v1/workers?limit=500&after=worker9")
    local res=$work/list.txt r k side c name q cfg=$work/list.cfg out=$work/list.out
    local expected=$work/expected.txt # every name, in the order the API pages (String.compareTo = C order)
    seq 1 "$workers" | sed 's/^/worker/' | LC_ALL=C sort >"$expected"
    : >"$res"
    for ((r = 1; r <= rounds; r++)); do
        local order=()
        for ((k = 0; k < ${#sides[@]}; k++)); do order+=($(( (r % 2 == 1) ? k : ${#sides[@]} - 1 - k ))); done
        for k in "${order[@]}"; do
            side=${sides[k]}
            start_server "${jars[k]}" "$data" "$work/approve.yaml" "$work/serve-list-$side-$r"
            note "round $r $side: ready in ${startup_s} s"
            echo "$r $side startup $startup_s" >>"$res"
            for c in "${cases[@]}"; do
                name=${c%% *} q=${c#* }
                if [[ $q == /api/v1/workers\?* ]]; then # the page holds the names it should
                    local want=${q#*limit=} from=
                    want=${want%%&*}
                    [[ $q == *after=* ]] && from=${q#*after=}
                    LC_ALL=C awk -v f="$from" -v l="$want" '$0 > f && c < l { print; c++ }' "$expected" >"$work/want.txt"
                    api_call GET "$q" | grep -o '"name":"[^"]*"' | cut -d'"' -f4 | cmp -s - "$work/want.txt" ||
                        die "$side $name: the page is not the $(wc -l <"$work/want.txt") names after '$from'"
                elif [[ $name != unauth ]]; then
                    api_call GET "$q" >/dev/null
                fi
                local code=200
                [[ $name == unauth ]] && code=401
                local timed=0 warm=50 case_t0=$SECONDS lat=$work/lat.txt
                : >"$lat"
                while ((timed < requests && SECONDS - case_t0 < case_secs)); do
                    curl_config "$cfg" "$token"
                    [[ $name == unauth ]] && : >"$cfg"
                    local b=50
                    for ((j = 0; j < b; j++)); do printf 'url = "%s%s"\noutput = "/dev/null"\n' "$api" "$q" >>"$cfg"; done
                    curl -sS -m 600 --cacert "$cert" -K "$cfg" -w '%{http_code} %{time_appconnect} %{time_total}\n' >"$out" ||
                        die "$side $name: curl failed"
                    awk -v want="$code" '$1 != want { bad++ } END { exit bad > 0 }' "$out" ||
                        die "$side $name: a request did not answer $code: $(cut -d' ' -f1 "$out" | sort | uniq -c | tr '\n' ' ')"
                    # request latency on the open connection: total minus the TLS connection set-up
                    while read -r _ ac tt; do
                        if ((warm > 0)); then warm=$((warm - 1)); continue; fi
                        ((timed < requests)) || break
                        awk -v a="$ac" -v t="$tt" 'BEGIN { printf "%.2f\n", (t - a) * 1000 }' >>"$lat"
                        timed=$((timed + 1))
                    done <"$out"
                done
                echo "$r $side $name $(stats <"$lat")" >>"$res"
            done
            # the whole list, by pages of 500: every name once; the time is the sum of the pages'
            # request latencies (curl's, less the TLS set-up of each page's own connection)
            local after= pages=0 walk_ms=0 wc_code wc_ac wc_tt seen=$work/seen.txt
            : >"$seen"
            while ((pages < 100)); do
                read -r wc_code wc_ac wc_tt < <(curl -sS -m 60 -o "$work/page.json" --cacert "$cert" -K "$work/auth.cfg" \
                    -w '%{http_code} %{time_appconnect} %{time_total}\n' "$api/api/v1/workers?limit=500${after:+&after=$after}")
                [[ $wc_code == 200 ]] || die "$side: walk page $pages: HTTP $wc_code"
                walk_ms=$(awk -v s="$walk_ms" -v a="$wc_ac" -v t="$wc_tt" 'BEGIN { printf "%.1f", s + (t - a) * 1000 }')
                pages=$((pages + 1))
                grep -o '"name":"[^"]*"' "$work/page.json" | cut -d'"' -f4 >>"$seen"
                after=$(grep -o '"next":"[^"]*"' "$work/page.json" | cut -d'"' -f4 || true)
                [[ -n $after ]] || break
            done
            echo "$r $side walk $walk_ms $pages" >>"$res"
            cmp -s "$seen" "$expected" ||
                die "$side: the walk saw $(wc -l <"$seen") names ($(sort -u "$seen" | wc -l) distinct), not worker1..$workers in name order"
            stop_server
        done
    done

    echo
    echo "## GET /api/v1/workers with $workers workers ($ready READY with 2 LUNs each, $((workers - ready)) PENDING; ms, median over $rounds rounds of each run's figure)"
    echo
    echo "Populated through the boot path in ${populate_s:-?} s. Enroll latency while populating (curl time_total, median of each 1,000):"
    echo
    echo "| workers already enrolled | enroll median ms | max ms |"
    echo "|---:|---:|---:|"
    for f in auto approve; do
        [[ -f $work/populate-$f.txt ]] || continue
        awk '{ b = int(($1 - 1) / 1000) * 1000; print b, $2 }' "$work/populate-$f.txt" | sort -n -k1,1 -u | cut -d' ' -f1 |
            while read -r at; do
                read -r _ p50 _ mx < <(awk -v b="$at" 'int(($1 - 1) / 1000) * 1000 == b { print $2 }' "$work/populate-$f.txt" | stats)
                echo "| $at ($f) | $p50 | $mx |"
            done
    done
    echo
    echo "| case | side | n | p50 | p99 | max |"
    echo "|---|---|---:|---:|---:|---:|"
    for c in "${cases[@]}"; do
        name=${c%% *}
        for side in "${sides[@]}"; do
            local nn p50 p99 mx
            nn=$(awk -v s="$side" -v c="$name" '$2 == s && $3 == c { print $4 }' "$res" | median)
            p50=$(awk -v s="$side" -v c="$name" '$2 == s && $3 == c { print $5 }' "$res" | median)
            p99=$(awk -v s="$side" -v c="$name" '$2 == s && $3 == c { print $6 }' "$res" | median)
            mx=$(awk -v s="$side" -v c="$name" '$2 == s && $3 == c { print $7 }' "$res" | median)
            echo "| $name \`${c#* }\` | $side | $nn | **$p50** | $p99 | $mx |"
        done
    done
    for side in "${sides[@]}"; do
        echo "| whole walk, $(awk -v s="$side" '$2 == s && $3 == "walk" { print $5; exit }' "$res") pages of 500 | $side | $rounds walks | **$(awk -v s="$side" '$2 == s && $3 == "walk" { print $4 }' "$res" | median)** | | |"
    done
    echo
    echo "Per round (round side case n p50 p99 max; walk: ms pages; startup: s):"
    echo
    echo '```'
    cat "$res"
    echo '```'
}

case $what in
    enroll) run_enroll ;;
    list) run_list ;;
    all) run_enroll; run_list ;;
esac
echo
echo "Load before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Commands:"
echo
for c in "${cmds[@]}"; do echo "    $c"; done
