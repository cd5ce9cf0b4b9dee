#!/usr/bin/env bash
# Runs one of the benchmark drivers (io.junction.loadtest.bench.CLASS) on the load generator's core, telling it
# which core the servers it starts should use, when the machine has two or more cores and taskset; with the
# test class path of the loadtest module. The scripts beside it call this; run from anywhere.
# Usage: loadtest/bench/run-pinned.sh CLASS [driver arguments]
# JUNCTION_JAR=path/to/other/junction-server.jar runs the servers of another build.
set -euo pipefail
cd "$(dirname "$0")/../.."
main=$1
shift
cp=$(loadtest/bench/bench-classpath.sh)
pin=()
servers=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin=(taskset -c 0)
  servers=(-Dserver.cores=1)
fi
exec "${pin[@]}" java -Xms1g -Xmx1g -cp "$cp" "${servers[@]}" -Djunction.jar="${JUNCTION_JAR:-server/target/junction-server.jar}" \
  "io.junction.loadtest.bench.$main" "$@"
