#!/usr/bin/env bash
# Where a call's cost goes in a server under load, per answered call: one server (the demo repository, one execution
# slot) pinned to core 1, junction-loadtest with CALLERS callers of the demo `mlp` on core 0, then SECONDS of an
# async-profiler profile (async-profile.sh) divided by the calls answered meanwhile.
#   EVENT ctimer or cpu: CPU µs a call by component (Netty, gRPC, protobuf, Junction, ONNX Runtime, JIT, GC, ...),
#                each sample charged to the deepest library frame on its stack (cpu-summary.py); ctimer costs the
#                server nothing measurable but samples at the kernel's tick, cpu (perf events) adds the kernel's frames
#                and slows the server here (async-profile.sh): prefer ctimer with a minute of profile
#   EVENT alloc: heap bytes a call by the code that allocated them (alloc-summary.py); unlike CPU time, bytes a
#                call barely depend on this VM's noise, so builds compare run to run
# TRACING off (--tracing false), otlp (every call traced, exported over OTLP/gRPC to a receiver on core 0 that only
# counts) or otlp1 (1 % of calls traced, exported the same way). Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/profile-per-call.sh EVENT [server jar, default server/target/junction-server.jar]
#     [callers, default 16] [seconds profiled, default 20] [seconds of load first, default 45] [TRACING, default off]
# TOP=N lists Junction's N costliest methods or allocation sites (default 15); KEEP=FILE keeps the collapsed profile;
# LOAD_ARGS adds junction-loadtest options, e.g. LOAD_ARGS='--call inference.GRPCInferenceService/ModelStreamInfer'.
set -euo pipefail
cd "$(dirname "$0")/../.."
event=${1:?EVENT: ctimer, cpu or alloc}
jar=${2:-server/target/junction-server.jar}
callers=${3:-16}
seconds=${4:-20}
warm=${5:-45}
tracing=${6:-off}
# shellcheck source=loadtest/bench/servers.sh
. loadtest/bench/servers.sh
work=$(mktemp -d)
children=()
otlp_receiver_pid=""
# The server and its load first, then the receiver: a traced server flushes its last spans as it stops.
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${children[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -z "$otlp_receiver_pid" ] || { kill "$otlp_receiver_pid" 2>/dev/null || true; wait "$otlp_receiver_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
settings=()
case $tracing in
  off) flags=(--tracing false) ;;
  otlp)
    flags=(--tracing true)
    start_otlp_receiver
    settings=(OTEL_TRACES_EXPORTER=otlp "OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_endpoint" OTEL_TRACES_SAMPLER=always_on) ;;
  otlp1)
    flags=(--tracing true)
    start_otlp_receiver
    settings=(OTEL_TRACES_EXPORTER=otlp "OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_endpoint" OTEL_TRACES_SAMPLER=traceidratio
      OTEL_TRACES_SAMPLER_ARG=0.01) ;;
  *) echo "TRACING must be off, otlp or otlp1, got '$tracing'" >&2; exit 2 ;;
esac
read -r -a load_args <<< "${LOAD_ARGS:-}"
cp -r server/target/classes/demo-repository "$work/repo"
grpc=$(free_port)
http=$(free_port)
env "${settings[@]}" "${server_core[@]}" java -Xms1g -Xmx1g -jar "$jar" --model-repository "$work/repo" \
  --grpc-address 127.0.0.1 --grpc-port "$grpc" --http-port "$http" --cpu-slots 1 "${flags[@]}" >"$work/server.log" 2>&1 &
server=$!
children+=("$server")
await_ready "$http" "$server" "$work/server.log" "$jar" || exit 1
"${load_core[@]}" java -jar loadtest/target/junction-loadtest.jar --target "127.0.0.1:$grpc" --insecure --model mlp \
  -c "$callers" -z "$((warm + seconds + 15))s" "${load_args[@]}" >/dev/null 2>&1 &
children+=($!)
# The server's CPU time so far, in µs (utime + stime of /proc/PID/stat, in clock ticks).
cpu_micros() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1000000 / hz }' "/proc/$server/stat"
}
sleep "$warm"
before=$(answered "$http")
cpu_before=$(cpu_micros)
loadtest/bench/async-profile.sh "$server" "$seconds" "$work/profile.collapsed" 100us "$event" >/dev/null
calls=$(( $(answered "$http") - before ))
cpu=$(( $(cpu_micros) - cpu_before ))
echo "$jar, tracing $tracing: $callers callers, ${seconds} s profiled after ${warm} s of load"
case $event in
  cpu | ctimer) loadtest/bench/cpu-summary.py "$work/profile.collapsed" "$calls" "$cpu" "${TOP:-15}" ;;
  alloc) loadtest/bench/alloc-summary.py "$work/profile.collapsed" "$calls" "${TOP:-15}" ;;
esac
[ -z "${KEEP:-}" ] || cp "$work/profile.collapsed" "$KEEP"
