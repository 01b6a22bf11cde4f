#!/usr/bin/env bash
# Needs (root): apt-get install -y tftpd-hpa atftp bc ipxe -- tftpd-hpa starts its own daemon on port 69 when
# installed; stop it (systemctl stop tftpd-hpa, or kill the in.tftpd of /run/tftpd-hpa.pid) if you do not want one.
# TFTP benchmark on loopback: Apiary's TftpServer (dev.apiary.pxe.tftp) against tftpd-hpa.
#  1. one 30 MB file, blksize 1468, windowsize 1 and 8 (atftp client; tftpd-hpa has no windowsize,
#     RFC 7440: it declines the option and runs lock-step whatever is asked), plus curl with
#     --tftp-blksize 1468;
#  2. 50 curl clients fetching the real iPXE binary (/usr/lib/ipxe/snponly.efi, package ipxe) at
#     once: time until all 50 are done.
# The machine is shared and noisy, so every case alternates rounds (Apiary, tftpd-hpa, Apiary,
# tftpd-hpa, ...), RUNS rounds each; every fetched file is checked with cmp (a failed check prints
# FAILED for that server in that case). Each case reports the median time per server, MB/s, the
# ratio Apiary median / tftpd-hpa median (below 1 = Apiary faster) and the individual times in
# the order they ran.
# Needs: java (JAVA_HOME), a built pxe-boot (mvn -pl pxe-boot -am install -DskipTests), curl, atftp,
# bc, the ipxe package, and for the comparison tftpd-hpa's in.tftpd run as root (it chroots with -s).
# Servers are started here, on 127.0.0.1 high ports, and stopped by their PIDs.
# Usage: integration/bench/tftp-bench.sh [RUNS]   (alternating rounds per server, medians; default 5)
set -euo pipefail
RUNS=${1:-5}
case "$RUNS" in '' | *[!0-9]* | 0) echo "usage: $0 [RUNS]   (RUNS >= 1, default 5)" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$HERE/../.." && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
APIARY_PORT=${APIARY_PORT:-16969}
HPA_PORT=${HPA_PORT:-16970}
IPXE_EFI=/usr/lib/ipxe/snponly.efi
STORM_CLIENTS=50

for tool in curl atftp bc; do
  command -v "$tool" >/dev/null || { echo "tftp-bench: $tool is missing (scripts/install-test-deps.sh)" >&2; exit 1; }
done
[ -f "$IPXE_EFI" ] || { echo "tftp-bench: $IPXE_EFI is missing: install the ipxe package" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tftp-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/root" "$WORK/out"
head -c 30000000 /dev/urandom >"$WORK/root/big.bin"
cp "$IPXE_EFI" "$WORK/root/snponly.efi"
chmod 755 "$WORK/root"; chmod 644 "$WORK/root"/*
BIG_BYTES=$(stat -c %s "$WORK/root/big.bin")
EFI_BYTES=$(stat -c %s "$WORK/root/snponly.efi")

# --- Apiary ---
CP_FILE="$WORK/cp.txt"
(cd "$MAIN" && JAVA_HOME="$JAVA_HOME" mvn -q -B -o -pl pxe-boot dependency:build-classpath \
  -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=runtime >"$WORK/mvn.log" 2>&1) \
  || { echo "tftp-bench: mvn dependency:build-classpath failed (build pxe-boot first)" >&2; cat "$WORK/mvn.log" >&2; exit 1; }
cat >"$WORK/logback.xml" <<'XML'
<configuration>
  <appender name="E" class="ch.qos.logback.core.ConsoleAppender"><target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %msg%n</pattern></encoder></appender>
  <root level="WARN"><appender-ref ref="E"/></root>
</configuration>
XML
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dlogback.configurationFile="$WORK/logback.xml" \
  -cp "$MAIN/pxe-boot/target/classes:$(cat "$CP_FILE")" dev.apiary.pxe.tftp.TftpServer \
  127.0.0.1 "$APIARY_PORT" "$WORK/root" 64 >"$WORK/apiary.log" 2>&1 &
PIDS+=($!)

# --- tftpd-hpa, in the foreground (-L), chrooted to the same root (-s) ---
HPA=""
if command -v in.tftpd >/dev/null && [ "$(id -u)" -eq 0 ]; then
  in.tftpd -L -s -u nobody -B 65464 -a "127.0.0.1:$HPA_PORT" "$WORK/root" >"$WORK/hpa.log" 2>&1 &
  PIDS+=($!)
  HPA=1
else
  echo "tftp-bench: no in.tftpd or not root; measuring Apiary only" >&2
fi

# Wait (bounded) until the servers answer.
wait_up() {
  for _ in $(seq 1 100); do
    curl -s --max-time 2 -o /dev/null "tftp://127.0.0.1:$1/snponly.efi" && return 0
    sleep 0.1
  done
  echo "tftp-bench: server on port $1 did not come up" >&2; cat "$WORK"/*.log >&2; exit 1
}
wait_up "$APIARY_PORT"
if [ -n "$HPA" ]; then wait_up "$HPA_PORT"; fi

# --- fetchers: FETCH PORT [ARGS...], each bounded in time ---
O="$WORK/out/big"
atftp_get() { # PORT WINDOW
  timeout 60 atftp --option "blksize 1468" --option "windowsize $2" --option tsize \
    -g -r big.bin -l "$O" 127.0.0.1 "$1"
}
curl_get() { # PORT
  curl -s --max-time 60 --tftp-blksize 1468 -o "$O" "tftp://127.0.0.1:$1/big.bin"
}
storm_get() { # PORT: STORM_CLIENTS curls at once, returns when the last is done
  local pids=() i p
  for i in $(seq 1 "$STORM_CLIENTS"); do
    curl -s --max-time 60 --tftp-blksize 1468 -o "$WORK/out/s$i" "tftp://127.0.0.1:$1/snponly.efi" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
}
# --- preparation (outside the timing) and verification ---
prep_big() { rm -f "$O"; }
prep_storm() { rm -f "$WORK"/out/s*; }
verify_big() { cmp -s "$O" "$WORK/root/big.bin" || { echo "FAILED"; return 1; }; }
verify_storm() {
  local i bad=0
  for i in $(seq 1 "$STORM_CLIENTS"); do
    cmp -s "$WORK/out/s$i" "$WORK/root/snponly.efi" || bad=$((bad + 1))
  done
  [ "$bad" -eq 0 ] || { echo "FAILED ($bad of $STORM_CLIENTS)"; return 1; }
}

now() { date +%s.%N; }
# measure VERIFY FETCH PORT [ARGS...]: one timed fetch; prints seconds, or VERIFY's FAILED and returns 1
measure() {
  local verify=$1 t0 t1; shift
  t0=$(now); "$@" >/dev/null 2>&1 || true; t1=$(now)
  "$verify" || return 1
  printf '%.3f\n' "$(echo "$t1 - $t0" | bc -l)"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
  END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cell() { # MEDIAN BYTES: "0.504 s (60 MB/s)"
  awk -v t="$1" -v b="$2" 'BEGIN { printf "%.3f s (%.0f MB/s)", t, b / t / 1000000 }'
}

FMT="%-46s %-22s %-22s %s\n"
# run_case LABEL BYTES PREP VERIFY FETCH [ARGS...]: RUNS alternating rounds, Apiary first
run_case() {
  local label=$1 bytes=$2 prep=$3 verify=$4; shift 4
  local a=() h=() afail="" hfail="" d r ac hc ratio am hm
  for r in $(seq 1 "$RUNS"); do
    if [ -z "$afail" ]; then
      "$prep"
      if d=$(measure "$verify" "$1" "$APIARY_PORT" "${@:2}"); then a+=("$d"); else afail=$d; fi
    fi
    if [ -n "$HPA" ] && [ -z "$hfail" ]; then
      "$prep"
      if d=$(measure "$verify" "$1" "$HPA_PORT" "${@:2}"); then h+=("$d"); else hfail=$d; fi
    fi
  done
  ac=${afail:-}; hc=${hfail:-"-"}; ratio="-"
  if [ -z "$afail" ]; then am=$(median "${a[@]}"); ac=$(cell "$am" "$bytes"); fi
  if [ -n "$HPA" ] && [ -z "$hfail" ]; then hm=$(median "${h[@]}"); hc=$(cell "$hm" "$bytes"); fi
  if [ -z "$afail" ] && [ -n "$HPA" ] && [ -z "$hfail" ]; then
    ratio=$(awk -v a="$am" -v h="$hm" 'BEGIN { printf "%.2f", a / h }')
  fi
  printf "$FMT" "$label" "$ac" "$hc" "$ratio"
  printf "%-46s %s\n" "" "runs  Apiary: ${a[*]:-}${afail:+ then $afail}"
  printf "%-46s %s\n" "" "runs  tftpd-hpa: ${h[*]:-}${hfail:+ then $hfail}"
}

echo "TFTP benchmark, loopback, $RUNS alternating rounds per server (Apiary, tftpd-hpa, ...), medians"
echo "(30 MB = $BIG_BYTES bytes; snponly.efi = $EFI_BYTES bytes; storm MB/s is the aggregate of $STORM_CLIENTS clients)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "$FMT" "case" "Apiary median" "tftpd-hpa median" "Apiary/tftpd-hpa time"
run_case "30 MB atftp blksize 1468 windowsize 1" "$BIG_BYTES" prep_big verify_big atftp_get 1
run_case "30 MB atftp blksize 1468 windowsize 8 (*)" "$BIG_BYTES" prep_big verify_big atftp_get 8
run_case "30 MB curl --tftp-blksize 1468" "$BIG_BYTES" prep_big verify_big curl_get
run_case "$STORM_CLIENTS curl clients x snponly.efi at once" "$((STORM_CLIENTS * EFI_BYTES))" \
  prep_storm verify_storm storm_get
echo "(*) tftpd-hpa does not implement windowsize (RFC 7440): it declines the option and runs lock-step."
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
