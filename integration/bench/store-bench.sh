#!/usr/bin/env bash
# store-bench.sh - the store benchmarks of docs/benchmarks.md: clone time against image size, and
# 4 KiB random writes into a fresh clone against a plain file volume (alternated, medians).
# Usage: store-bench.sh [DIR=/dev/shm/apiary-store-bench] [SECONDS=5] [ROUNDS=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-/dev/shm/apiary-store-bench} secs=${2:-5} rounds=${3:-3}
source "$root/scripts/find-jdk.sh"
cd "$root"
mvn -q -B install -DskipTests -pl lun-manager -am >&2
mvn -q -B test-compile -pl lun-manager >&2
cp=$(mvn -q -B -pl lun-manager dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=test)
rm -rf "$dir"; trap 'rm -rf "$dir"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, store in $dir; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "lun-manager/target/test-classes:lun-manager/target/classes:$cp" \
    dev.apiary.lun.bench.StoreBench "$dir" "$secs" "$rounds"
