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
cp=$(loadtest/bench/bench-classpath.sh)
scratch=$(mktemp -d /tmp/junction-big-threads-XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
java -cp "$cp" io.junction.loadtest.bench.BigMlpRepository "$scratch/repo" # prints the batching config
pin_server=()
pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 1)
  pin_load=(taskset -c 0)
fi
"${pin_server[@]}" java -jar "${JUNCTION_JAR:-server/target/junction-server.jar}" --model-repository "$scratch/repo" --cpu-slots 1 \
  --grpc-port 8101 --http-port 8102 >"$scratch/server.log" 2>&1 &
server=$!
for _ in $(seq 60); do
  grep -q "serving gRPC on" "$scratch/server.log" 2>/dev/null && break
  sleep 1
done
if ! grep -q "serving gRPC on" "$scratch/server.log"; then
  echo "the server did not start within 60 s:" >&2
  cat "$scratch/server.log" >&2
  exit 1
fi
"${pin_load[@]}" java -jar loadtest/target/junction-loadtest.jar --target localhost:8101 --insecure --model big \
  -c 64 -z 70s >"$scratch/load.txt" 2>&1 &
load=$!
sleep 45 # the load generator's and the server's JITs settle first
python3 loadtest/bench/thread-cpu.py "$server" 20
wait "$load"
grep -E "Requests/sec" "$scratch/load.txt"
