#!/usr/bin/env bash
# Builds deploy/Containerfile with buildah (no daemon) on base images made here with debootstrap, then
# runs the image, serves one inference from it and stops it with SIGTERM. Called by deploy/verify.sh.
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

# 3. The image itself, from the repository's Containerfile, both bases swapped in by build argument.
start=$(date +%s)
"${BUD[@]}" -q -f deploy/Containerfile \
  --build-arg BUILD_BASE=localhost/junction-verify-build --build-arg BASE=localhost/junction-verify-jre \
  --build-arg MAVEN_FLAGS=-o --volume "$HOME/.m2:/root/.m2" -t "$TAG" . >/dev/null
ok "built $TAG from deploy/Containerfile in $(( $(date +%s) - start ))s"
user=$("${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$TAG")
[[ $user == 10001:10001 ]] || fail "image runs as '$user', not the non-root 10001:10001"
mapfile -t entry < <("${BUILDAH[@]}" inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}{{range .OCIv1.Config.Cmd}}{{println .}}{{end}}' "$TAG" | sed '/^$/d')
ok "image config: user $user, command ${entry[*]}"

# 4. Run it: the image's own entrypoint and command (model repository /models inside), on free ports.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GRPC=$(free_port); HTTP=$(free_port)
ctr=$("${BUILDAH[@]}" from --quiet "$TAG")
cleanup() {
  pkill -KILL -f -- "^(/[^ ]*/)?java .*--grpc-port $GRPC" 2>/dev/null || true
  "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT
uid=$("${BUILDAH[@]}" run --isolation chroot "$ctr" -- id -u)
[[ $uid == 10001 ]] || fail "processes in the image run as uid $uid"
ok "processes in the image run as uid $uid"
"${BUILDAH[@]}" run --isolation chroot "$ctr" -- "${entry[@]}" --grpc-port "$GRPC" --http-port "$HTTP" \
  > "$ROOT/deploy/.verify/image-server.log" 2>&1 &
RUNNER=$!
for _ in $(seq 1 90); do
  curl -sf "http://127.0.0.1:$HTTP/v2/health/ready" >/dev/null 2>&1 && break
  kill -0 $RUNNER 2>/dev/null || { cat "$ROOT/deploy/.verify/image-server.log"; fail "the image's server did not start"; }
  sleep 1
done
answer=$(curl -sf -X POST "http://127.0.0.1:$HTTP/v2/models/mlp/versions/1/infer" \
  -d '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}') \
  || { cat "$ROOT/deploy/.verify/image-server.log"; fail "inference on the image's server failed"; }
[[ $answer == *'"name":"y"'* && $answer == *'"shape":[1,4]'* ]] || fail "unexpected answer: $answer"
ok "the image served an inference: $answer"
pkill -TERM -f -- "^(/[^ ]*/)?java .*--grpc-port $GRPC"
rc=0; wait $RUNNER || rc=$?
[[ $rc == 0 ]] || { tail -5 "$ROOT/deploy/.verify/image-server.log"; fail "the image's server exited $rc on SIGTERM"; }
ok "SIGTERM: the image's server drained and exited 0"
"${BUILDAH[@]}" rmi "$TAG" >/dev/null 2>&1 || true
