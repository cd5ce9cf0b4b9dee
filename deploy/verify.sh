#!/usr/bin/env bash
# Checks deploy/ with the tools at hand, no cluster and no container engine needed:
#   1. lint: shellcheck of every tracked shell script, yamllint, the Python tools compile
#   2. render every kustomize overlay; validate each object against the Kubernetes (and Prometheus
#      Operator) schemas; check the references between objects
#   3. run the server jar with the Deployment's own arguments and routes ConfigMap; check its probe paths
#      answer, its ports are the ones the manifests name, every metric the alerts, dashboard and autoscaler
#      use is one it exports, /metrics passes promtool, and SIGTERM drains within the grace period
#   4. promtool check and unit-test the alert rules
#   5. where buildah is present (and JUNCTION_VERIFY_IMAGE is not 0): build the image on a base made
#      locally with debootstrap, run it, serve one inference from it and stop it with SIGTERM
# Needs: java 17, node 18+ with npm, promtool, yamllint, shellcheck, curl, python3; kubectl 1.21+ to render
# the overlays (without it the base is checked as written); buildah + debootstrap for the image. `.ci/run`
# installs what Debian has. Needs server/target/junction-server.jar (mvn package).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/deploy/.verify
JAR=$ROOT/server/target/junction-server.jar
rm -rf "$OUT/run" && mkdir -p "$OUT/run"

step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 not found: $2"; }

need java "install a Java 17 runtime"
need node "node 18 or newer runs deploy/validate"
need npm "npm installs deploy/validate's pinned packages"
need promtool "apt-get install prometheus"
need yamllint "apt-get install yamllint"
need shellcheck "apt-get install shellcheck"
need curl "apt-get install curl"
need python3 "apt-get install python3"
[[ -f $JAR ]] || fail "$JAR missing: run mvn -B package -DskipTests first"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

step "lint"
# Every shell script the repository keeps (deploy, GPU check, benchmarks), and CI's own.
mapfile -t scripts < <(git ls-files '*.sh' 2>/dev/null || ls deploy/*.sh gpu-native/*.sh loadtest/bench/*.sh)
# -x: the benchmarks source what they share (loadtest/bench/servers.sh), checked with each of them
shellcheck -x "${scripts[@]}" .ci/run
ok "shellcheck (${#scripts[@]} scripts and .ci/run)"
# The Python tools (benchmark summaries, capacity planning) at least compile.
python3 - deploy/*.py loadtest/bench/*.py <<'PY'
import sys
for path in sys.argv[1:]:
    compile(open(path, encoding="utf-8").read(), path, "exec")
PY
ok "python tools compile"
yamllint -c deploy/.yamllint deploy
ok "yamllint"

step "render and validate the Kubernetes objects"
(cd deploy/validate && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
manifests() { node deploy/validate/manifests.js "$@"; }
rm -f "$OUT"/*.yaml
if command -v kubectl >/dev/null 2>&1 \
    && kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v//p') \
    && [[ ${kustomize_version%%.*} =~ ^[0-9]+$ ]] && (( ${kustomize_version%%.*} >= 4 )); then
  for overlay in deploy/kubernetes/overlays/*/; do
    name=$(basename "$overlay")
    kubectl kustomize "$overlay" > "$OUT/$name.yaml"
    ok "rendered $overlay -> $OUT/$name.yaml (kustomize v$kustomize_version)"
  done
  RENDERED=$OUT/cpu.yaml
else
  # Debian's archive has no kubectl new enough; check the base as written rather than nothing.
  echo "SKIP overlays: no kubectl with kustomize v4+ (kubectl 1.21 or newer); checking the base's files as written"
  manifests base deploy/kubernetes/base > "$OUT/base.yaml"
  RENDERED=$OUT/base.yaml
fi
manifests validate "$OUT"/*.yaml deploy/kubernetes/model-sync-job.yaml
for rendered in "$OUT"/*.yaml; do
  manifests references "$rendered"
done
if [[ -f $OUT/gpu.yaml ]]; then
  [[ $(manifests field "$OUT/gpu.yaml" limits) == *"nvidia.com/gpu 1"* ]] || fail "gpu overlay asks for no nvidia.com/gpu"
  [[ $(manifests field "$OUT/gpu.yaml" cpu-slots) == 4 ]] || fail "gpu overlay: --cpu-slots does not follow its CPU request of 4"
  ok "gpu overlay: one nvidia.com/gpu, --cpu-slots 4 (from its CPU request)"
fi
CPU_SLOTS=$(manifests field "$RENDERED" cpu-slots)
[[ $CPU_SLOTS == 2 ]] || fail "the Deployment's --cpu-slots is '$CPU_SLOTS', not its CPU request of 2"
ok "--cpu-slots $CPU_SLOTS, from the CPU request (JUNCTION_CPU_SLOTS by the Downward API)"

step "the server, run with the Deployment's arguments"
for port in $(manifests field "$RENDERED" ports | awk '{print $2}'); do
  java -jar "$JAR" --help | grep -q "(default: $port)" || fail "container port $port is not a default port of the server"
done
ok "container ports $(manifests field "$RENDERED" ports | tr '\n' ' ')are the server's defaults"
cp -r server/target/classes/demo-repository "$OUT/run/models"
manifests field "$RENDERED" routes > "$OUT/run/routes.yaml"
GRPC=$(free_port); HTTP=$(free_port)
args=()
while IFS= read -r a; do
  a=${a//=\/models/=$OUT/run/models}
  a=${a//=\/etc\/junction\/routes.yaml/=$OUT/run/routes.yaml}
  args+=("$a")
done < <(manifests field "$RENDERED" args)
# Probe ports are the container's; locally the server listens on free ones.
# The environment the Deployment gives it that matters here: the CPU slots its request sets.
JUNCTION_CPU_SLOTS=$CPU_SLOTS java -jar "$JAR" "${args[@]}" --grpc-port "$GRPC" --http-port "$HTTP" \
  > "$OUT/run/server.log" 2>&1 &
SERVER=$!
trap 'kill -9 $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$HTTP/v2/health/ready" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/run/server.log"; fail "the server did not start with the Deployment's arguments"; }
  sleep 1
done
while read -r probe port path; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP$path")
  [[ $code == 200 ]] || fail "$probe $path answered $code"
  ok "$probe (port $port) $path answers 200"
done < <(manifests field "$RENDERED" probes)
slots=$(curl -s "http://127.0.0.1:$HTTP/metrics" | sed -n 's/^junction_device_slots{device="cpu"} \([0-9]*\).*/\1/p')
[[ $slots == "$CPU_SLOTS" ]] || fail "the server runs $slots executions at once on the CPU, not the $CPU_SLOTS its request sets"
ok "the server runs $slots executions at once on the CPU, as JUNCTION_CPU_SLOTS says"

# A canary route with a shadow, written over the ConfigMap's file as the kubelet would: the server re-reads it.
cat > "$OUT/run/routes.yaml.new" <<'ROUTES'
routes:
  - name: scorer
    variants:
      - { name: stable, model: mlp, version: 1, weight: 80 }
      - { name: next, model: mlp, version: 2, weight: 20 }
    shadow: { model: mlp, version: 2, fraction: 1.0 }
    canary: { variant: next, baseline: stable, steps: [20, 50, 100], min_requests: 100000, min_seconds: 3600 }
ROUTES
mv "$OUT/run/routes.yaml.new" "$OUT/run/routes.yaml"
body='{"inputs":[{"name":"x","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}'
for _ in $(seq 1 30); do
  curl -sf -X POST "http://127.0.0.1:$HTTP/v2/models/scorer/infer" -d "$body" >/dev/null 2>&1 && break
  sleep 0.5
done
for _ in $(seq 1 40); do
  curl -sf -X POST "http://127.0.0.1:$HTTP/v2/models/scorer/infer" -d "$body" >/dev/null || fail "inference on the route failed"
  curl -sf -X POST "http://127.0.0.1:$HTTP/v2/models/mlp/versions/1/infer" -d "$body" >/dev/null || fail "inference on mlp failed"
done
ok "80 inferences over REST, half through the reloaded route"
sleep 1
curl -sf "http://127.0.0.1:$HTTP/metrics" > "$OUT/run/metrics.txt"
exported=$(grep -v '^#' "$OUT/run/metrics.txt" | sed -E 's/[{ ].*//' | sort -u)
# Metrics that only exist elsewhere or after an event this run does not cause, each with its reason.
declare -A elsewhere=(
  [DCGM_FI_DEV_GPU_UTIL]="NVIDIA's DCGM exporter"
  [nv_gpu_memory_used_bytes]="gpu-native (issue #17), on GPU replicas"
  [junction_model_reload_failures_total]="exported after the first failed reload"
  [nv_cache_num_hits_per_model]="exported for models that enable the response cache"
  [nv_cache_num_misses_per_model]="exported for models that enable the response cache"
)
missing=0
while IFS= read -r m; do
  if grep -qx "$m" <<<"$exported"; then
    ok "metric $m is exported"
  elif [[ -n ${elsewhere[$m]:-} ]]; then
    printf 'note %s: not exported by this run (%s)\n' "$m" "${elsewhere[$m]}"
  else
    printf 'FAIL metric %s is used but not exported\n' "$m"; missing=1
  fi
done < <(manifests metrics deploy/observability/alerts.yaml deploy/observability/grafana-dashboard.json \
  deploy/kubernetes/prometheus-adapter-rules.yaml)
grep -q '^junction_inflight_requests' "$OUT/run/metrics.txt" || { echo "FAIL the HPA's junction_inflight_requests is not exported"; missing=1; }
[[ $missing == 0 ]] || fail "the alerts, dashboard or autoscaler use metrics the server does not export"
# promtool's lint: only Triton's own nv_inference_* and nv_cache_* counters (names kept exactly for Triton's
# dashboards: no _total, _us units, nv_inference_count) may draw a remark.
lint=$(promtool check metrics < "$OUT/run/metrics.txt" 2>&1 || true)
unexpected=$(grep -v -E '^nv_(inference|cache)_[a-z_]+ (metric names should not contain abbreviated units|counter metrics should have "_total" suffix|non-histogram and non-summary metrics should not have "_count" suffix)$' <<<"$lint" | grep -v '^$' || true)
[[ -z $unexpected ]] || fail "promtool check metrics: $unexpected"
ok "promtool check metrics (Triton's nv_inference_* and nv_cache_* names aside)"

grace=$(manifests field "$RENDERED" grace)
prestop=$(manifests field "$RENDERED" prestop)
start=$(date +%s)
kill -TERM $SERVER
rc=0; wait $SERVER || rc=$?
took=$(( $(date +%s) - start ))
trap - EXIT
[[ $rc == 0 ]] || fail "server exited $rc on SIGTERM"
(( prestop + took < grace )) || fail "preStop ${prestop}s + drain ${took}s does not fit terminationGracePeriodSeconds ${grace}"
ok "SIGTERM: drained and exited 0 in ${took}s (+ preStop ${prestop}s < grace ${grace}s)"

step "alert rules"
promtool check rules deploy/observability/alerts.yaml
promtool test rules deploy/observability/alerts-test.yaml

step "container image"
if [[ ${JUNCTION_VERIFY_IMAGE:-1} == 0 ]]; then
  echo "SKIP image: JUNCTION_VERIFY_IMAGE=0"
elif ! command -v buildah >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "SKIP image: buildah and debootstrap are not installed (apt-get install buildah debootstrap)"
else
  deploy/verify-image.sh
fi

printf '\nverify: all checks passed\n'
