#!/usr/bin/env bash
# Checks the GPU paths on a machine with an NVIDIA GPU, in two steps:
#   gpu-native/verify-gpu.sh prepare   here, after `mvn -q -B install -DskipTests`: builds gpu-native/target/verify
#                                      (a jlink'ed Java runtime, the server jar without other platforms' natives,
#                                      junction-gpu.jar, JavaCPP's linux-x86_64 JNI jars, a model repository),
#                                      small enough to travel with the working tree (at most 60 MiB)
#   gpu-native/verify-gpu.sh run       there: finds the CUDA libraries (NVIDIA's Python wheels or the system's),
#                                      runs io.junction.gpu.VerifyGpu and prints one line per check
# The GPU machine needs no Java, no Maven and no network. See VerifyGpu's Javadoc for the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=gpu-native/target/verify

prepare() {
  for jar in server/target/junction-server.jar gpu-native/target/junction-gpu.jar; do
    [ -f "$jar" ] || { echo "verify-gpu: $jar is missing; run mvn -q -B install -DskipTests first" >&2; exit 1; }
  done
  rm -rf "$bundle"
  mkdir -p "$bundle/lib"
  cp server/target/junction-server.jar gpu-native/target/junction-gpu.jar "$bundle/lib/"
  # Only linux-x86_64's natives travel: ONNX Runtime's other platforms are most of the server jar. The shaded
  # libraries' module descriptors go too: jdeps would read the jars as modules and miss their requirements.
  zip -q -d "$bundle/lib/junction-server.jar" 'ai/onnxruntime/native/linux-aarch64/*' 'ai/onnxruntime/native/osx*' \
    'ai/onnxruntime/native/win*' 'META-INF/versions/*/module-info.class' 'module-info.class' >/dev/null || true
  zip -q -d "$bundle/lib/junction-gpu.jar" 'META-INF/versions/*/module-info.class' 'module-info.class' >/dev/null || true
  modules=$(jdeps --ignore-missing-deps --print-module-deps --multi-release 17 \
    "$bundle/lib/junction-server.jar" "$bundle/lib/junction-gpu.jar")
  # java.desktop only for SnakeYAML's bean introspection, which route files do not use: 10 MiB saved.
  modules=$(echo "$modules,jdk.crypto.ec,jdk.unsupported" | tr ',' '\n' | grep -v '^java.desktop$' | paste -sd, -)
  jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 --output "$bundle/jre"
  if command -v strip >/dev/null; then
    strip --strip-unneeded "$bundle/jre/lib/server/libjvm.so"
  fi
  # Packed: the runtime is most of what travels, and xz halves it.
  tar -C "$bundle" -cJf "$bundle/jre.tar.xz" jre
  rm -rf "$bundle/jre"
  # JavaCPP's JNI jars for linux-x86_64, at the versions the parent pom pins.
  mvn -q -B -pl gpu-native -Pnatives package -DskipTests
  cp gpu-native/target/natives/*.jar "$bundle/lib/"
  mkdir -p "$bundle/repo"
  cp -r server/target/classes/demo-repository/mlp "$bundle/repo/mlp"
  mkdir -p "$bundle/repo/mlp_gpu/1"
  cp server/target/classes/demo-repository/mlp/1/model.onnx "$bundle/repo/mlp_gpu/1/"
  cat > "$bundle/repo/mlp_gpu/config.pbtxt" <<'CONFIG'
# The demo mlp (version 1) on GPU 0, to compare with mlp on the CPU.
platform: "onnxruntime_onnx"
max_batch_size: 64
input [ { name: "x", data_type: TYPE_FP32, dims: [ 8 ] } ]
output [ { name: "y", data_type: TYPE_FP32, dims: [ 4 ] } ]
instance_group [ { kind: KIND_GPU, gpus: [ 0 ] } ]
CONFIG
  size=$(du -sm --exclude=jre "$bundle" | cut -f1)
  echo "verify-gpu: $bundle holds $size MiB"
  if [ "$size" -gt 60 ]; then
    echo "verify-gpu: more than 60 MiB cannot travel to the device machine" >&2
    exit 1
  fi
}

run() {
  [ -f "$bundle/jre.tar.xz" ] || { echo "verify-gpu: run 'prepare' first (on a machine with Java and Maven)" >&2; exit 1; }
  [ -x "$bundle/jre/bin/java" ] || tar -C "$bundle" -xJf "$bundle/jre.tar.xz"
  # CUDA from NVIDIA's Python wheels (site-packages/nvidia/*/lib), else the system's.
  libs=""
  for dir in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' \
      2>/dev/null || true); do
    for lib in "$dir"/nvidia/*/lib; do
      [ -d "$lib" ] && libs="$libs:$lib"
    done
  done
  export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "verify-gpu: nvidia-smi says: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
    2>/dev/null || echo 'nothing (no nvidia-smi)')"
  echo "verify-gpu: CUDA libraries from: ${LD_LIBRARY_PATH:-the default paths}"
  # pathsFirst: JavaCPP loads libcudart and friends from those paths, not from jars it does not have.
  exec "$bundle/jre/bin/java" -Dorg.bytedeco.javacpp.pathsFirst=true -Xmx2g -cp "$bundle/lib/*" \
    io.junction.gpu.VerifyGpu "$bundle/repo"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: gpu-native/verify-gpu.sh prepare|run" >&2; exit 2 ;;
esac
