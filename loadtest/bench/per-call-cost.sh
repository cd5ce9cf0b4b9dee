#!/usr/bin/env bash
# Per-call cost of Junction against a plain grpc-java echo server and in-process ONNX Runtime, with the
# servers pinned to core 1 and the load generator to core 0 (see PerCallCostBenchmark's Javadoc).
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/per-call-cost.sh [repeats] [seconds per point] [comparisons: big,plain,small,one,large,tracing,payload]
# JUNCTION_JAR=path/to/other/junction-server.jar measures another build (e.g. a baseline) the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file="$PWD/loadtest/target/bench.classpath"
mvn -q -B -o -pl loadtest dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" \
  || mvn -q -B -pl loadtest dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
cp="loadtest/target/test-classes:loadtest/target/classes:$(cat "$cp_file")"
pin=()
servers=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin=(taskset -c 0)
  servers=(-Dserver.cores=1)
fi
exec "${pin[@]}" java -Xms1g -Xmx1g -cp "$cp" "${servers[@]}" -Djunction.jar="${JUNCTION_JAR:-server/target/junction-server.jar}" \
  io.junction.loadtest.bench.PerCallCostBenchmark "$@"
