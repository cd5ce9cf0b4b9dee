#!/usr/bin/env bash
# What the tracing interceptor costs the thread that runs a call, hot (see InterceptorCostBenchmark's Javadoc): tracing
# off, 1 % and 100 % sampling, each in its own JVM pinned to core 1, interleaved per repetition.
# Usage, from the repository root after `mvn -q -B install -DskipTests`:
#   loadtest/bench/interceptor-cost.sh [repeats, default 3] [seconds measured per mode, default 6]
exec "$(dirname "$0")/run-pinned.sh" InterceptorCostBenchmark "$@"
