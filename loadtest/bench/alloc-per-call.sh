#!/usr/bin/env bash
# Heap bytes a call of a server under load, by the code that allocated them: profile-per-call.sh with EVENT alloc.
# Usage: loadtest/bench/alloc-per-call.sh [server jar] [callers] [seconds profiled] [seconds of load first] [TRACING]
exec "$(dirname "$0")/profile-per-call.sh" alloc "$@"
