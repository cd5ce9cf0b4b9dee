#!/usr/bin/env bash
# What one exported span costs the process that makes it, taken apart by way of exporting (see
# SpanCostBenchmark's Javadoc): probes pinned to core 1, the OTLP receivers on core 0.
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/span-cost.sh [repeats, default 3] [seconds measured, default 6] [seconds of warm-up, default 20] [ways to run, by number, e.g. 2,3,4; default all]
exec "$(dirname "$0")/run-pinned.sh" SpanCostBenchmark "$@"
