#!/usr/bin/env bash
# Compares server configurations by the CPU each spends per answered call, measured over the same windows: all of
# them run at once, pinned together to core 1, each under its own closed-loop load (junction-loadtest, a demo model)
# from core 0. A drift of this VM's speed then hits every configuration alike, which alternating windows
# (per-call-cost.sh) cannot promise; the price is that the servers share the core, so each runs below its peak.
# For every window it prints each configuration's CPU per call, its calls per second and its busiest thread groups
# (loadtest/bench/thread-cpu.py), from /proc and the servers' own success counters; at the end, each one's median and
# its ratio to the first configuration, the baseline (baseline's CPU per call / its own, so 0.9 means 10 % dearer),
# then the same without the JIT compilers' threads, which a server still compiling pays only in its first minutes.
#
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/side-by-side.sh [-w warm-up s] [-m window s] [-r windows] [-c callers] [-M model] [-a ARGS] [-p] CONFIG...
# -M names the demo repository's model the load calls: mlp (the default, 32-byte requests) or image_classifier
# (110,592-byte images, which the server copies once into pooled buffers). -a adds junction-loadtest options to
# every gRPC load (not to rest: ones), e.g. -a '--trace-calls 0.01' (callers that send their own trace context, 1 % of
# it sampled). -p also profiles every server over every window (async-profile.sh, ctimer: no cost measurable here) and
# ends with cpu-compare.py: each configuration's CPU a call by component and the methods that differ most from the
# first's, measured in the same phase of the VM (lengthen the windows: ctimer samples at the kernel's 250 Hz tick).
# CONFIG is a preset, optionally followed by +ENV=VALUE settings for its server, @JAR for another build of the server
# and %JAR for another build of its load generator; a CONFIG that starts with rest: has its server called over KServe v2
# REST instead (JSON to /v2/models/MODEL/infer over HTTP/1.1 keep-alive, by h2load: apt-get install nghttp2-client),
# one request whose inputs are the model's, filled with 0.5:
#   off      --tracing false
#   default  --tracing true, no exporter (the SDK's configuration without OTEL_* settings)
#   otlp     every call traced (always_on), exported over OTLP/gRPC to a receiver on core 0 that only counts
#   otlp1    1 % of calls traced (traceidratio 0.01), exported the same way
#   payload  --tracing false, every call's inputs and outputs logged to gzip JSON lines in a directory of its own
#   cached   --tracing false, a copy of the demo repository whose models enable the response cache, 64 MiB of it: the
#            load generator sends one request over and over, so every call after the first is a hit
# e.g. loadtest/bench/side-by-side.sh -w 150 -m 30 -r 2 off otlp otlp1
#      loadtest/bench/side-by-side.sh otlp otlp+OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512
#      loadtest/bench/side-by-side.sh off rest:off         # what a REST call costs against a gRPC one
#      loadtest/bench/side-by-side.sh -a '--trace-calls 0.01' otlp+OTEL_TRACES_SAMPLER=parentbased_always_off%old.jar \
#        otlp+OTEL_TRACES_SAMPLER=parentbased_always_off
set -euo pipefail
cd "$(dirname "$0")/../.."
warm=150
window=30
windows=1
callers=16
model=mlp
load_args=""
profile=false
while getopts "w:m:r:c:M:a:p" opt; do
  case $opt in
    w) warm=$OPTARG ;;
    m) window=$OPTARG ;;
    r) windows=$OPTARG ;;
    c) callers=$OPTARG ;;
    M) model=$OPTARG ;;
    a) load_args=$OPTARG ;;
    p) profile=true ;;
    *) sed -n '2,32p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,32p' "$0" >&2; exit 2; }

# shellcheck source=loadtest/bench/servers.sh
. loadtest/bench/servers.sh
repo=server/target/classes/demo-repository
loadtest=loadtest/target/junction-loadtest.jar
if [ ! -d "$repo" ] || [ ! -f "$loadtest" ]; then
  echo "build first: mvn -q -B install -DskipTests" >&2
  exit 1
fi

children=()
otlp_receiver_pid=""
# Servers and load generators first, then the receiver: a traced server flushes its last spans as it stops.
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${children[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$otlp_receiver_pid" ]; then
    kill "$otlp_receiver_pid" 2>/dev/null || true
    wait "$otlp_receiver_pid" 2>/dev/null || true
  fi
  if [ ${#payload_dirs[@]} -gt 0 ]; then rm -rf "${payload_dirs[@]}"; fi
  if [ ${#cached_repos[@]} -gt 0 ]; then rm -rf "${cached_repos[@]}"; fi
}
trap cleanup EXIT

otlp_endpoint=""
if printf '%s\n' "$@" | grep -q '^otlp'; then
  start_otlp_receiver
fi

names=()
payload_dirs=()
cached_repos=()
pids=()
http_ports=()
grpc_ports=()
load_jars=()
protocols=()
for config in "$@"; do
  jar=server/target/junction-server.jar
  spec=$config
  protocol=grpc
  if [[ $spec == rest:* ]]; then
    protocol=rest
    spec=${spec#rest:}
    command -v h2load >/dev/null || { echo "'$config' needs h2load: apt-get install nghttp2-client" >&2; exit 2; }
  fi
  load_jar=$loadtest
  if [[ $spec == *%* ]]; then
    load_jar=${spec#*%}
    spec=${spec%%%*}
  fi
  if [[ $spec == *@* ]]; then
    jar=${spec#*@}
    spec=${spec%%@*}
  fi
  preset=${spec%%+*}
  settings=()
  if [[ $spec == *+* ]]; then
    IFS=+ read -r -a settings <<<"${spec#*+}"
  fi
  tracing=true
  server_args=()
  server_repo=$repo
  case $preset in
    off) tracing=false ;;
    payload) tracing=false
      payload_dirs+=("$(mktemp -d)")
      server_args=(--payload-log-dir "${payload_dirs[-1]}") ;;
    cached) tracing=false
      cached_repos+=("$(mktemp -d)")
      server_repo=${cached_repos[-1]}
      cp -r "$repo/." "$server_repo"
      for pbtxt in "$server_repo"/*/config.pbtxt; do printf '\nresponse_cache { enable: true }\n' >>"$pbtxt"; done
      server_args=(--response-cache-bytes 67108864) ;;
    default) ;;
    otlp) settings=(OTEL_TRACES_EXPORTER=otlp "OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_endpoint" OTEL_TRACES_SAMPLER=always_on
      "${settings[@]}") ;;
    otlp1) settings=(OTEL_TRACES_EXPORTER=otlp "OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_endpoint" OTEL_TRACES_SAMPLER=traceidratio
      OTEL_TRACES_SAMPLER_ARG=0.01 "${settings[@]}") ;;
    *) echo "unknown preset '$preset' in '$config'" >&2; exit 2 ;;
  esac
  grpc=$(free_port)
  http=$(free_port)
  env "${settings[@]}" "${server_core[@]}" java -Xms1g -Xmx1g -jar "$jar" --model-repository "$server_repo" \
    --grpc-address 127.0.0.1 --grpc-port "$grpc" --http-port "$http" --cpu-slots 1 --tracing "$tracing" "${server_args[@]}" \
    >"${TMPDIR:-/tmp}/side-by-side-${#names[@]}.log" 2>&1 &
  children+=($!)
  pids+=($!)
  names+=("$config")
  grpc_ports+=("$grpc")
  http_ports+=("$http")
  load_jars+=("$load_jar")
  protocols+=("$protocol")
done

for i in "${!http_ports[@]}"; do
  await_ready "${http_ports[$i]}" "${pids[$i]}" "${TMPDIR:-/tmp}/side-by-side-$i.log" "${names[$i]}" || exit 1
done
duration=$((warm + windows * (window + 2) + 10))
read -r -a extra_load_args <<<"$load_args"
for i in "${!grpc_ports[@]}"; do
  if [ "${protocols[$i]}" = rest ]; then
    # h2load reads its body file as it sends each request, so each load has its own.
    rest_body="${TMPDIR:-/tmp}/side-by-side-rest-body-$i.json"
    # One request with every input of the model, its variable dimensions 1, from the model's own metadata.
    curl -sf "localhost:${http_ports[$i]}/v2/models/$model" | python3 -c '
import json, math, sys
inputs = json.load(sys.stdin)["inputs"]
body = [{"name": t["name"], "datatype": t["datatype"], "shape": [max(d, 1) for d in t["shape"]],
         "data": [0.5] * math.prod(max(d, 1) for d in t["shape"])} for t in inputs]
print(json.dumps({"inputs": body}))' >"$rest_body"
    "${load_core[@]}" h2load --h1 -c "$callers" -D "$duration" -d "$rest_body" -H 'content-type: application/json' \
      "http://127.0.0.1:${http_ports[$i]}/v2/models/$model/infer" >/dev/null 2>&1 &
  else
    "${load_core[@]}" java -jar "${load_jars[$i]}" --target "127.0.0.1:${grpc_ports[$i]}" --insecure --model "$model" \
      -c "$callers" -z "${duration}s" "${extra_load_args[@]}" >/dev/null 2>&1 &
  fi
  children+=($!)
done

echo "side by side: ${names[*]}; $model, $callers callers each, ${warm} s of warm-up, $windows window(s) of ${window} s"
results="${TMPDIR:-/tmp}/side-by-side-results.tsv"
: >"$results"
sleep "$warm"
for w in $(seq "$windows"); do
  before=()
  for port in "${http_ports[@]}"; do before+=("$(answered "$port")"); done
  samplers=()
  for i in "${!pids[@]}"; do
    python3 loadtest/bench/thread-cpu.py "${pids[$i]}" "$window" >"${TMPDIR:-/tmp}/side-by-side-threads-$i.txt" &
    samplers+=($!)
    if $profile; then
      loadtest/bench/async-profile.sh "${pids[$i]}" "$window" "${TMPDIR:-/tmp}/side-by-side-profile-$i-$w.collapsed" \
        100us ctimer >/dev/null &
      samplers+=($!)
    fi
  done
  wait "${samplers[@]}"
  for i in "${!pids[@]}"; do
    calls=$(( $(answered "${http_ports[$i]}") - before[i] ))
    awk -v name="${names[$i]}" -v calls="$calls" -v window="$window" -v w="$w" '
      NR == 1 { cpu = $1; printf "window %d  %-28s %6.1f µs/call  %7.0f calls/s |", w, name, cpu * 1e6 / calls, calls / window; next }
      NR <= 7 { printf " %s %.1f", $3, $1 * cpu * 1e4 / calls }
      END { print "" }' "${TMPDIR:-/tmp}/side-by-side-threads-$i.txt"
    # window, configuration, µs a call, calls, CPU µs, and the JIT compilers' share of the CPU (C1, C2 threads)
    awk -v i="$i" -v w="$w" -v calls="$calls" 'NR == 1 { cpu = $1; next } /Compiler/ { jit += $1 }
      END { printf "%d\t%d\t%.3f\t%d\t%d\t%.4f\n", w, i, cpu * 1e6 / calls, calls, cpu * 1e6, jit / 100 }' \
      "${TMPDIR:-/tmp}/side-by-side-threads-$i.txt" >>"$results"
  done
done
# The first configuration is the baseline: each other one's CPU per call against it, window by window.
python3 - "$results" "${names[@]}" <<'SUMMARY'
import collections
import statistics
import sys

# The same without the JIT compilers' threads: a server still compiling (a traced one's rarely run export code, the
# payload writer's bursts) pays for it in its first minutes, not for as long as it runs.
per_window = collections.defaultdict(dict)
without_jit = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    window, config, micros, _, _, jit_share = line.split()
    per_window[int(window)][int(config)] = float(micros)
    without_jit[int(window)][int(config)] = float(micros) * (1 - float(jit_share))
names = sys.argv[2:]


def summary(windows, title):
    print(f"\n{title}, median of {len(windows)} window(s); ratio = {names[0]}'s / this one's, per window:")
    for i, name in enumerate(names):
        micros = [w[i] for w in windows.values() if i in w]
        ratios = [w[0] / w[i] for w in windows.values() if i in w and 0 in w]
        line = f"  {name:<28} {statistics.median(micros):6.1f} µs/call"
        if i > 0:
            line += f"  ratio {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
            line += f"  {statistics.median(micros) - statistics.median([w[0] for w in windows.values()]):+.1f} µs"
        print(line)


summary(per_window, "CPU per call")
summary(without_jit, "CPU per call without the JIT compilers' threads")
SUMMARY

if $profile; then
  compare=()
  for i in "${!names[@]}"; do
    totals=$(awk -v i="$i" '$2 == i { calls += $4; cpu += $5 } END { printf "%d:%d", calls, cpu }' "$results")
    files=$(seq -f "${TMPDIR:-/tmp}/side-by-side-profile-$i-%g.collapsed" 1 "$windows" | paste -sd,)
    compare+=("${names[$i]}=$totals:$files")
  done
  echo
  python3 loadtest/bench/cpu-compare.py "${compare[@]}"
fi
