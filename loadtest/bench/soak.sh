#!/usr/bin/env bash
# Soak: calls to the demo mlp, half cancelled, bursts of 10x the base rate; samples the server's memory and
# says whether it stayed flat (see SoakBenchmark's Javadoc).
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/soak.sh [calls, default 1000000] [server heap, default 512m] [model: mlp (default), image_classifier or large_echo (answers checked)]
# JUNCTION_JAR=path/to/other/junction-server.jar soaks another build.
exec "$(dirname "$0")/run-pinned.sh" SoakBenchmark "$@"
