#!/usr/bin/env bash
# CPU profile of a running JVM (e.g. a server under load from per-call-cost.sh or junction-loadtest) with
# async-profiler, fetched from Maven Central on first use. JFR samples a busy server too rarely to split a call of
# ~50 µs (a few hundred samples in 20 s); this takes one every 100 µs of CPU by default. Writes collapsed stacks, one
# line per stack, the thread first and each frame marked _[j] compiled, _[i] inlined or _[k] kernel:
# loadtest/bench/collapsed-summary.py summarises them, and any flame-graph tool draws them.
# EVENT cpu samples with perf events (kernel frames included); on this paravirtual VM every sample costs an interrupt
# and a server sampled each 100 µs of CPU ran at a quarter of its speed (each 1 ms: 1.7x its CPU a call), which
# inflates the kernel's share. EVENT ctimer samples with per-thread CPU timers: user frames only (time in a system call
# is charged to the code that made it), no measurable overhead, but the kernel's tick (4 ms at 250 Hz) bounds the rate
# whatever the interval, so profile for a minute rather than seconds. EVENT alloc samples heap allocations instead,
# each stack counted in bytes (alloc-summary.py reads them). EVENT wall samples every thread each interval whether it
# runs or waits (parked, in epoll, in a system call): where a call's latency goes when the server's core sits idle.
# Usage: loadtest/bench/async-profile.sh PID SECONDS OUT.collapsed [interval, default 100us; 5ms for wall] [EVENT: cpu (default) |
#   ctimer | wall | alloc]
set -euo pipefail
pid=$1
seconds=$2
out=$(realpath -m "$3")
event=${5:-cpu}
# wall samples every thread each interval, running or not: at 100 us that alone would load the server's core.
default_interval=100us
[ "$event" = wall ] && default_interval=5ms
interval=${4:-$default_interval}
version=4.1
jar="$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version.jar"
[ -f "$jar" ] || mvn -q -B dependency:get -Dartifact="tools.profiler:async-profiler:$version"
case "$(uname -m)" in
  x86_64) platform=linux-x64 ;;
  aarch64) platform=linux-arm64 ;;
  *) echo "async-profiler has no library for $(uname -m)" >&2; exit 1 ;;
esac
lib_dir="${TMPDIR:-/tmp}/async-profiler-$version"
lib="$lib_dir/$platform/libasyncProfiler.so"
[ -f "$lib" ] || unzip -q -o "$jar" "$platform/libasyncProfiler.so" -d "$lib_dir"
# jcmd splits its arguments at '=' unless the agent's options are quoted inside the argument.
case $event in
  cpu | ctimer | wall) start="event=$event,interval=$interval,threads" stop="collapsed,ann" ;;
  alloc) start="event=alloc,total,threads" stop="collapsed,total" ;;
  *) echo "EVENT must be cpu, ctimer, wall or alloc, got '$event'" >&2; exit 2 ;;
esac
jcmd "$pid" JVMTI.agent_load "$lib" "\"start,$start\"" >/dev/null
sleep "$seconds"
jcmd "$pid" JVMTI.agent_load "$lib" "\"stop,file=$out,$stop\"" >/dev/null
echo "$out"
