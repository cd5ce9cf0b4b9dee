#!/usr/bin/env bash
# Heap bytes a call of a server under load, by the code that allocated them: one server (tracing off, the demo
# repository, one execution slot) pinned to core 1, junction-loadtest with CALLERS callers of the demo `mlp` on core 0,
# then an allocation profile of SECONDS (async-profile.sh ... alloc) divided by the calls answered meanwhile
# (alloc-summary.py). Unlike CPU time, bytes a call barely depend on this VM's noise: builds compare run to run.
# Usage, from the repository root after `mvn -q -B package -DskipTests`:
#   loadtest/bench/alloc-per-call.sh [server jar, default server/target/junction-server.jar] [callers, default 16]
#     [seconds profiled, default 20] [seconds of load first, default 45]
set -euo pipefail
cd "$(dirname "$0")/../.."
jar=${1:-server/target/junction-server.jar}
callers=${2:-16}
seconds=${3:-20}
warm=${4:-45}
server_core=()
load_core=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_core=(taskset -c 1)
  load_core=(taskset -c 0)
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp -r server/target/classes/demo-repository "$work/repo"
grpc=$(free_port)
http=$(free_port)
"${server_core[@]}" java -Xms1g -Xmx1g -jar "$jar" --model-repository "$work/repo" --grpc-address 127.0.0.1 \
  --grpc-port "$grpc" --http-port "$http" --cpu-slots 1 --tracing false >"$work/server.log" 2>&1 &
server=$!
children+=("$server")
for _ in $(seq 120); do
  curl -sf "localhost:$http/v2/health/ready" >/dev/null && break
  sleep 0.5
done
"${load_core[@]}" java -jar loadtest/target/junction-loadtest.jar --target "127.0.0.1:$grpc" --insecure --model mlp \
  -c "$callers" -z "$((warm + seconds + 15))s" >/dev/null 2>&1 &
children+=($!)
answered() {
  curl -sf "localhost:$http/metrics" | awk '/^nv_inference_request_success\{/ { n += $2 } END { printf "%d", n }'
}
sleep "$warm"
before=$(answered)
loadtest/bench/async-profile.sh "$server" "$seconds" "$work/alloc.collapsed" 100us alloc >/dev/null
calls=$(( $(answered) - before ))
echo "$jar: $callers callers, ${seconds} s profiled after ${warm} s of load"
loadtest/bench/alloc-summary.py "$work/alloc.collapsed" "$calls" "${TOP:-15}"
