#!/usr/bin/env bash
# Large requests served by one Junction server at a time, to compare builds or settings by what the issue's "1 MiB"
# comparison measures: the per-call-cost benchmark's identity model of [1, 3, 224, 224] FP32 images (602,112 bytes in,
# the same out), 4 callers over one connection, the server pinned to core 1 (--cpu-slots 1) and junction-loadtest to
# core 0. Each run warms for WARM seconds (default 60), then measures 60 s: calls a second, the latency percentiles,
# and, over 30 s inside that window, the CPU each process spends a call (server and load generator, from /proc).
# The builds run in turn, REPEATS rounds (default 2), so that a drift of this VM's speed hits each alike.
# JUNCTION_SERVER_ARGS='--opt val' adds options to every server; LOAD_ARGS='--opt val' to every load generator, e.g.
# LOAD_ARGS='--call inference.GRPCInferenceService/ModelStreamInfer' sends the requests over one stream per caller.
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/large-requests.sh [REPEATS] JAR...      e.g. large-requests.sh 3 /tmp/before.jar server/target/junction-server.jar
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=2
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
  repeats=$1
  shift
fi
[ $# -ge 1 ] || set -- server/target/junction-server.jar
warm=${WARM:-60}
# shellcheck source=loadtest/bench/servers.sh
. loadtest/bench/servers.sh
cp=$(loadtest/bench/bench-classpath.sh)
scratch=$(mktemp -d /tmp/junction-large-XXXXXX)
server=""
cleanup() {
  stop_server "$server"
  rm -rf "$scratch"
}
trap cleanup EXIT
java -cp "$cp" io.junction.loadtest.bench.BenchRepository "$scratch/repo" image
# CPU seconds a process (all its threads) has used so far.
cpu_seconds() {
  awk -v tick="$(getconf CLK_TCK)" '{ print ($14 + $15) / tick }' "/proc/$1/stat"
}
# The latency below which P % of the measured calls answered, in ms, from junction-loadtest's report: percentile P
percentile() {
  awk -v p="$1 %" 'index($0, p " in") { print $(NF - 1) }' "$scratch/load.txt"
}
read -r -a server_args <<<"${JUNCTION_SERVER_ARGS:-}"
read -r -a load_args <<<"${LOAD_ARGS:-}"
echo "| round | server | calls/s | p50 / p90 / p99 ms | server CPU µs a call | load generator CPU µs a call |"
echo "|---|---|---|---|---|---|"
for round in $(seq "$repeats"); do
  for jar in "$@"; do
    grpc_port=$(free_port)
    http_port=$(free_port)
    "${server_core[@]}" java -Xms1g -Xmx1g -jar "$jar" --model-repository "$scratch/repo" --grpc-port "$grpc_port" \
      --grpc-address 127.0.0.1 --http-port "$http_port" --cpu-slots 1 --tracing false "${server_args[@]}" \
      >"$scratch/server.log" 2>&1 &
    server=$!
    await_ready "$http_port" "$server" "$scratch/server.log" "$jar"
    "${load_core[@]}" java -jar loadtest/target/junction-loadtest.jar --target "localhost:$grpc_port" --insecure --model image \
      -c 4 --warmup "${warm}s" -z 60s "${load_args[@]}" >"$scratch/load.txt" 2>&1 &
    load=$!
    sleep $((warm + 15))
    s0=$(cpu_seconds "$server")
    l0=$(cpu_seconds "$load")
    sleep 30
    s1=$(cpu_seconds "$server")
    l1=$(cpu_seconds "$load")
    wait "$load"
    stop_server "$server"
    server=""
    rate=$(awk '/Requests\/sec/ { print $2 }' "$scratch/load.txt")
    awk -v r="$round" -v j="$jar" -v rate="$rate" -v s0="$s0" -v s1="$s1" -v l0="$l0" -v l1="$l1" \
      -v p50="$(percentile 50)" -v p90="$(percentile 90)" -v p99="$(percentile 99)" \
      'BEGIN { printf "| %d | %s | %.0f | %s / %s / %s | %.0f | %.0f |\n", r, j, rate, p50, p90, p99,
        (s1 - s0) / 30 / rate * 1e6, (l1 - l0) / 30 / rate * 1e6 }'
  done
done
