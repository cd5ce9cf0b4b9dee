#!/usr/bin/env bash
# Where the server's core goes while it serves the per-call-cost benchmark's big MLP to 64 callers: a Junction server
# pinned to core 1 (--cpu-slots 1) serving only that model, junction-loadtest on core 0 sending it 1-row calls for
# 70 s, and thread-cpu.py reading the server's threads over 20 s of the steady state. Prints the split by thread group
# and the calls a second. BIG_MLP_BATCHING='<config.pbtxt fragment>' replaces the model's batching config, as for
# per-call-cost.sh; e.g. with parameters { key: "batch_wait_while_idle" ... } against without.
# JUNCTION_JAR=path/to/other/junction-server.jar measures another build the same way.
# Usage, from the repository root after `mvn -q -B install -DskipTests`: loadtest/bench/big-mlp-threads.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=loadtest/bench/servers.sh
. loadtest/bench/servers.sh
cp=$(loadtest/bench/bench-classpath.sh)
scratch=$(mktemp -d /tmp/junction-big-threads-XXXXXX)
server=""
cleanup() {
  stop_server "$server"
  rm -rf "$scratch"
}
trap cleanup EXIT
java -cp "$cp" io.junction.loadtest.bench.BenchRepository "$scratch/repo" big # prints the batching config
grpc_port=$(free_port)
http_port=$(free_port)
"${server_core[@]}" java -jar "${JUNCTION_JAR:-server/target/junction-server.jar}" --model-repository "$scratch/repo" \
  --cpu-slots 1 --grpc-port "$grpc_port" --grpc-address 127.0.0.1 --http-port "$http_port" >"$scratch/server.log" 2>&1 &
server=$!
await_ready "$http_port" "$server" "$scratch/server.log" "${JUNCTION_JAR:-server/target/junction-server.jar}"
"${load_core[@]}" java -jar loadtest/target/junction-loadtest.jar --target "localhost:$grpc_port" --insecure --model big \
  -c 64 -z 70s >"$scratch/load.txt" 2>&1 &
load=$!
sleep 45 # the load generator's and the server's JITs settle first
python3 loadtest/bench/thread-cpu.py "$server" 20
wait "$load"
grep -E "Requests/sec" "$scratch/load.txt"
