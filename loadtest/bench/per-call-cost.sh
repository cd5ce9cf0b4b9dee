#!/usr/bin/env bash
# Per-call cost of Junction against a plain grpc-java echo server and in-process ONNX Runtime, with the
# servers pinned to core 1 and the load generator to core 0 (see PerCallCostBenchmark's Javadoc).
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/per-call-cost.sh [repeats] [seconds per point] [comparisons: big,plain,small,one,stream,large,tracing,payload] [first warm-up s per server]
# JUNCTION_JAR=path/to/other/junction-server.jar measures another build (e.g. a baseline) the same way.
# JUNCTION_SERVER_ARGS='--grpc-large-request-bytes 65536' adds options to every Junction server it starts.
# BIG_MLP_BATCHING='dynamic_batching { ... } parameters { ... }' replaces the big MLP's batching config.
exec "$(dirname "$0")/run-pinned.sh" PerCallCostBenchmark "$@"
