#!/usr/bin/env bash
# Builds deploy/Containerfile and deploy/Containerfile.gpu with buildah (no daemon) on base images made here with
# debootstrap, then runs each image, serves one inference from it and stops it with SIGTERM (the GPU image on a base
# without CUDA: it must serve on the CPU and say why it found no GPU). Called by deploy/verify.sh.
# Needs root (chroot isolation), buildah, debootstrap and the Debian mirror (DEBIAN_MIRROR); the Maven
# build inside runs offline against ~/.m2, which `mvn package` on this machine has filled.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${JUNCTION_IMAGE_CACHE:-/var/tmp/junction-image-base}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BUILDAH=(buildah --storage-driver vfs)
BUD=("${BUILDAH[@]}" bud --isolation chroot --layers)
TAG=localhost/junction:verify
GPU_TAG=localhost/junction-gpu:verify
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }

# 1. Runtime base: Debian with a Java 17 runtime, made once and kept in $CACHE.
if ! "${BUILDAH[@]}" inspect --type image localhost/junction-verify-jre >/dev/null 2>&1; then
  if [[ ! -f $CACHE/rootfs.tar ]]; then
    rm -rf "$CACHE/rootfs" && mkdir -p "$CACHE"
    debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates bookworm "$CACHE/rootfs" "$MIRROR" \
      > "$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log"; fail "debootstrap"; }
    rm -rf "$CACHE"/rootfs/var/cache/apt/archives/*.deb "$CACHE"/rootfs/var/lib/apt/lists/*
    tar -C "$CACHE/rootfs" -cf "$CACHE/rootfs.tar" . && rm -rf "$CACHE/rootfs"
  fi
  printf 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/bash"]\n' > "$CACHE/Containerfile"
  "${BUD[@]}" -q -f "$CACHE/Containerfile" -t localhost/junction-verify-jre "$CACHE" >/dev/null
fi
ok "runtime base localhost/junction-verify-jre (debootstrap bookworm + openjdk-17-jre-headless)"

# 2. Build base: the runtime base plus a JDK and Maven.
if ! "${BUILDAH[@]}" inspect --type image localhost/junction-verify-build >/dev/null 2>&1; then
  printf '%s\n' 'FROM localhost/junction-verify-jre' \
    'RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven >/dev/null' \
    > "$CACHE/Containerfile.build"
  "${BUD[@]}" -q -f "$CACHE/Containerfile.build" -t localhost/junction-verify-build "$CACHE" >/dev/null
fi
ok "build base localhost/junction-verify-build (+ openjdk-17-jdk-headless, maven)"

# 3. An image from one of the repository's Containerfiles, both bases swapped in by build argument.
build() { # CONTAINERFILE TAG
  local start
  start=$(date +%s)
  "${BUD[@]}" -q -f "$1" \
    --build-arg BUILD_BASE=localhost/junction-verify-build --build-arg BASE=localhost/junction-verify-jre \
    --build-arg MAVEN_FLAGS=-o --volume "$HOME/.m2:/root/.m2" -t "$2" . >/dev/null
  ok "built $2 from $1 in $(( $(date +%s) - start ))s"
}

# 4. Run it: the image's own entrypoint and command (model repository /models inside), on free ports; one
# inference, then SIGTERM. Leaves the server's log in deploy/.verify/$2.log (the tag's name part).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() { # TAG LOG
  local tag=$1 log=$2 user uid answer rc entry GRPC HTTP ctr RUNNER
  user=$("${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$tag")
  [[ $user == 10001:10001 ]] || fail "$tag runs as '$user', not the non-root 10001:10001"
  mapfile -t entry < <("${BUILDAH[@]}" inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}{{range .OCIv1.Config.Cmd}}{{println .}}{{end}}' "$tag" | sed '/^$/d')
  ok "image config: user $user, command ${entry[*]}"
  GRPC=$(free_port); HTTP=$(free_port)
  ctr=$("${BUILDAH[@]}" from --quiet "$tag")
  # shellcheck disable=SC2064 # the ports and container of this run, fixed now
  trap "pkill -KILL -f -- '^(/[^ ]*/)?java .*--grpc-port $GRPC' 2>/dev/null || true; ${BUILDAH[*]} rm $ctr >/dev/null 2>&1 || true" EXIT
  uid=$("${BUILDAH[@]}" run --isolation chroot "$ctr" -- id -u)
  [[ $uid == 10001 ]] || fail "processes in $tag run as uid $uid"
  ok "processes in the image run as uid $uid"
  "${BUILDAH[@]}" run --isolation chroot "$ctr" -- "${entry[@]}" --grpc-port "$GRPC" --http-port "$HTTP" > "$log" 2>&1 &
  RUNNER=$!
  for _ in $(seq 1 90); do
    curl -sf "http://127.0.0.1:$HTTP/v2/health/ready" >/dev/null 2>&1 && break
    kill -0 $RUNNER 2>/dev/null || { cat "$log"; fail "the server of $tag did not start"; }
    sleep 1
  done
  answer=$(curl -sf -X POST "http://127.0.0.1:$HTTP/v2/models/mlp/versions/1/infer" \
    -d '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}') \
    || { cat "$log"; fail "inference on the server of $tag failed"; }
  [[ $answer == *'"name":"y"'* && $answer == *'"shape":[1,4]'* ]] || fail "unexpected answer: $answer"
  ok "$tag served an inference: $answer"
  pkill -TERM -f -- "^(/[^ ]*/)?java .*--grpc-port $GRPC"
  rc=0; wait $RUNNER || rc=$?
  [[ $rc == 0 ]] || { tail -5 "$log"; fail "the server of $tag exited $rc on SIGTERM"; }
  ok "SIGTERM: the server of $tag drained and exited 0"
  "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true
  trap - EXIT
  "${BUILDAH[@]}" rmi "$tag" >/dev/null 2>&1 || true
}

build deploy/Containerfile "$TAG"
serve "$TAG" "$ROOT/deploy/.verify/image-server.log"

# 5. The GPU image on the same base, which has no CUDA: the server must start with gpu-native on its class path,
# say in one line why it found no GPU, know the TensorRT backend, and serve on the CPU.
build deploy/Containerfile.gpu "$GPU_TAG"
serve "$GPU_TAG" "$ROOT/deploy/.verify/image-gpu-server.log"
grep -q 'CUDA: no devices' "$ROOT/deploy/.verify/image-gpu-server.log" \
  || { cat "$ROOT/deploy/.verify/image-gpu-server.log"; fail "the GPU image's server did not report on CUDA"; }
ok "the GPU image's server looked for GPUs: $(grep -o 'CUDA: no devices.\{0,90\}' "$ROOT/deploy/.verify/image-gpu-server.log" | head -1)"
grep -q 'backends: .*tensorrt' "$ROOT/deploy/.verify/image-gpu-server.log" \
  || { cat "$ROOT/deploy/.verify/image-gpu-server.log"; fail "the GPU image's server has no TensorRT backend"; }
ok "the GPU image's server has the TensorRT backend: $(grep -o 'backends: [^)]*' "$ROOT/deploy/.verify/image-gpu-server.log" | head -1)"
