#!/usr/bin/env python3
"""CPU µs per call from a CPU profile (loadtest/bench/async-profile.sh PID SECONDS OUT, collapsed with threads), by
component: the JIT's and the GC's threads by thread name; a thread parking or waking another (the hand-offs between
threads: futex calls under LockSupport) apart, whoever asked; every other sample charged to the deepest frame on its
stack that belongs to a library on the call's path (so a HashMap lookup in Junction's code is Junction's, ONNX
Runtime's native code and JNI lookups under OrtSession.run are ONNX Runtime's, and the protobuf code generated for
Junction's messages is protobuf's), with the samples whose top frame is in the kernel (profiles of EVENT cpu) shown
again apart, by the component that entered it. Samples are scaled to the process's own CPU time over the profile, so
the components add up to what the server spent a call.
Usage: cpu-summary.py PROFILE.collapsed CALLS CPU_MICROS [TOP]"""
import collections
import sys

from collapsed import CpuProfile

profile, calls, cpu_micros = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
top = int(sys.argv[4]) if len(sys.argv) > 4 else 0
p = CpuProfile(profile)
total, components, kernel = p.total, p.components, p.kernel
junction = collections.Counter()
for (component, method), n in p.methods.items():
    if component == "Junction":
        junction[method] += n

scale = p.scale(calls, cpu_micros)
print(f"{cpu_micros / calls:.1f} µs of CPU a call over {calls} calls ({total} samples)")
print(f"{'component':40} {'µs a call':>9} {'share':>6}   of which in the kernel")
for name, n in components.most_common():
    print(f"  {name:38} {n * scale:9.2f} {100.0 * n / total:5.1f} %   {kernel[name] * scale:6.2f}")
print(f"  {'(all, in the kernel)':38} {sum(kernel.values()) * scale:9.2f} {100.0 * sum(kernel.values()) / total:5.1f} %")
if top:
    print(f"\nJunction's {top} costliest methods (their own frames and the JDK code they call), µs a call:")
    for method, n in junction.most_common(top):
        print(f"  {n * scale:7.2f}  {method}")
