#!/usr/bin/env bash
# Soak: calls to the demo mlp, half cancelled, bursts of 10x the base rate; samples the server's memory and
# says whether it stayed flat (see SoakBenchmark's Javadoc).
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/soak.sh [calls, default 1000000] [server heap, default 512m]
# JUNCTION_JAR=path/to/other/junction-server.jar soaks another build.
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file="$PWD/loadtest/target/bench.classpath"
mvn -q -B -o -pl loadtest dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" \
  || mvn -q -B -pl loadtest dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
cp="loadtest/target/test-classes:loadtest/target/classes:$(cat "$cp_file")"
pin=()
server=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin=(taskset -c 0)
  server=(-Dserver.cores=1)
fi
exec "${pin[@]}" java -Xms1g -Xmx1g -cp "$cp" "${server[@]}" -Djunction.jar="${JUNCTION_JAR:-server/target/junction-server.jar}" \
  io.junction.loadtest.bench.SoakBenchmark "$@"
