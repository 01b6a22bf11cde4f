#!/usr/bin/env bash
# Needs (root): apt-get install -y tftpd-hpa atftp bc -- tftpd-hpa starts its own daemon on port 69 when
# installed; stop it (systemctl stop tftpd-hpa, or kill the in.tftpd of /run/tftpd-hpa.pid) if you do not want one.
# TFTP benchmark on loopback: Apiary's TftpServer (dev.apiary.pxe.tftp) against tftpd-hpa.
#  1. one 30 MB file, blksize 1468, windowsize 1 and 8 (atftp client; tftpd-hpa has no windowsize,
#     RFC 7440, so it runs lock-step whatever is asked), plus curl with --tftp-blksize 1468;
#  2. 50 curl clients fetching a ~200 KB file at once: time until all are done.
# Needs: java (JAVA_HOME), a built pxe-boot (mvn -pl pxe-boot -am install -DskipTests), curl, atftp,
# and for the comparison tftpd-hpa's in.tftpd run as root (it chroots with -s). Servers are started
# here, on 127.0.0.1 high ports, and stopped by their PIDs.
# Usage: integration/bench/tftp-bench.sh [RUNS]   (best of RUNS, default 3)
set -euo pipefail
RUNS=${1:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$HERE/../.." && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
APIARY_PORT=${APIARY_PORT:-16969}
HPA_PORT=${HPA_PORT:-16970}
WORK=$(mktemp -d /tmp/tftp-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in curl atftp; do
  command -v "$tool" >/dev/null || { echo "tftp-bench: $tool is missing (scripts/install-test-deps.sh)" >&2; exit 1; }
done

mkdir -p "$WORK/root" "$WORK/out"
head -c 30000000 /dev/urandom >"$WORK/root/big.bin"
head -c 204800 /dev/urandom >"$WORK/root/kernel"
chmod 755 "$WORK/root"; chmod 644 "$WORK/root"/*

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
    curl -s --max-time 2 -o /dev/null "tftp://127.0.0.1:$1/kernel" && return 0
    sleep 0.1
  done
  echo "tftp-bench: server on port $1 did not come up" >&2; exit 1
}
wait_up "$APIARY_PORT"
[ -n "$HPA" ] && wait_up "$HPA_PORT"

now() { date +%s.%N; }
# best-of-RUNS wall time of a command, checking the fetched file
best() { # best PORT FILE OUT -- cmd...
  local file=$2 out=$3 b="" t0 t1 d; shift 4
  for _ in $(seq 1 "$RUNS"); do
    rm -f "$out"
    t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
    cmp -s "$out" "$WORK/root/$file" || { echo "FAILED"; return; }
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
  done
  printf "%.3f s (%.0f MB/s)" "$b" "$(echo "$(stat -c %s "$WORK/root/$file") / $b / 1000000" | bc -l)"
}
atftp_get() { # PORT WINDOW OUT
  atftp --option "blksize 1468" --option "windowsize $2" --option tsize -g -r big.bin -l "$3" 127.0.0.1 "$1"
}
curl_get() { # PORT OUT
  curl -s --max-time 120 --tftp-blksize 1468 -o "$2" "tftp://127.0.0.1:$1/big.bin"
}
storm() { # PORT: 50 clients at once, time until the last is done (best of RUNS)
  local b="" t0 t1 d pids i bad
  for _ in $(seq 1 "$RUNS"); do
    rm -f "$WORK"/out/s*; pids=()
    t0=$(now)
    for i in $(seq 1 50); do
      curl -s --max-time 60 --tftp-blksize 1468 -o "$WORK/out/s$i" "tftp://127.0.0.1:$1/kernel" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    t1=$(now)
    bad=0
    for i in $(seq 1 50); do cmp -s "$WORK/out/s$i" "$WORK/root/kernel" || bad=$((bad + 1)); done
    [ "$bad" -eq 0 ] || { echo "FAILED ($bad of 50)"; return; }
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
  done
  printf "%.3f s" "$b"
}

echo "TFTP benchmark, loopback, best of $RUNS (30 MB = 30,000,000 bytes)"
printf "%-44s %-26s %s\n" "case" "Apiary" "tftpd-hpa"
row() { # label apiary-cmd... ; hpa result computed by caller
  printf "%-44s %-26s %s\n" "$1" "$2" "$3"
}
O="$WORK/out/big"
a1=$(best "$APIARY_PORT" big.bin "$O" -- atftp_get "$APIARY_PORT" 1 "$O")
h1=$([ -n "$HPA" ] && best "$HPA_PORT" big.bin "$O" -- atftp_get "$HPA_PORT" 1 "$O" || echo "-")
row "30 MB atftp blksize 1468 windowsize 1" "$a1" "$h1"
a8=$(best "$APIARY_PORT" big.bin "$O" -- atftp_get "$APIARY_PORT" 8 "$O")
h8=$([ -n "$HPA" ] && best "$HPA_PORT" big.bin "$O" -- atftp_get "$HPA_PORT" 8 "$O" || echo "-")
row "30 MB atftp blksize 1468 windowsize 8 (*)" "$a8" "$h8"
ac=$(best "$APIARY_PORT" big.bin "$O" -- curl_get "$APIARY_PORT" "$O")
hc=$([ -n "$HPA" ] && best "$HPA_PORT" big.bin "$O" -- curl_get "$HPA_PORT" "$O" || echo "-")
row "30 MB curl --tftp-blksize 1468" "$ac" "$hc"
as=$(storm "$APIARY_PORT")
hs=$([ -n "$HPA" ] && storm "$HPA_PORT" || echo "-")
row "50 curl clients x 200 KB at once" "$as" "$hs"
echo "(*) tftpd-hpa does not implement windowsize (RFC 7440): it declines the option and runs lock-step."
