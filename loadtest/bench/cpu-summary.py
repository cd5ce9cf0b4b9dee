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
import re
import sys

from collapsed import plain, stacks, thread_group

profile, calls, cpu_micros = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
top = int(sys.argv[4]) if len(sys.argv) > 4 else 0
HAND_OFF = re.compile(r"java\.util\.concurrent\.locks\.LockSupport\.(park|unpark)")
LIBRARIES = [
    ("protobuf", r"com\.google\.protobuf\.|io\.junction\.proto\."),
    ("Junction", r"io\.junction\."),
    ("ONNX Runtime", r"ai\.onnxruntime\."),
    ("OpenTelemetry (SDK, exporter)", r"io\.opentelemetry\.|okhttp3\.|okio\."),
    ("Prometheus client", r"io\.prometheus\."),
    ("gRPC", r"io\.grpc\."),
    ("Netty", r"io\.netty\."),
    ("logging", r"ch\.qos\.logback\.|org\.slf4j\."),
]


def runtime_threads(thread):
    """The JIT's or the GC's (and the VM's) threads, by name; None for any other."""
    name = thread_group(thread)
    if re.search(r"Compiler|Sweeper", name):
        return "JIT compiler threads"
    if re.search(r"GC|G1|Conc|Refine|VM Thread|Service Thread", name):
        return "GC and VM threads"
    return None


def library(frames):
    for frame in reversed(frames):
        for name, pattern in LIBRARIES:
            if re.match(pattern, frame):
                return name
    return "JVM, JDK (outside any library)"


total = 0
components, kernel, junction = collections.Counter(), collections.Counter(), collections.Counter()
for raw, n in stacks(profile):
    total += n
    frames = [plain(f) for f in raw[1:]]
    component = runtime_threads(raw[0]) \
        or ("thread hand-offs (parking, waking)" if any(HAND_OFF.match(f) for f in frames) else library(frames))
    components[component] += n
    if raw[-1].endswith("_[k]"):
        kernel[component] += n
    if component == "Junction":
        own = (f for f in reversed(frames) if f.startswith("io.junction.") and not f.startswith("io.junction.proto."))
        junction[next(own)] += n

scale = cpu_micros / total / calls if total and calls else 0.0
print(f"{cpu_micros / calls:.1f} µs of CPU a call over {calls} calls ({total} samples)")
print(f"{'component':40} {'µs a call':>9} {'share':>6}   of which in the kernel")
for name, n in components.most_common():
    print(f"  {name:38} {n * scale:9.2f} {100.0 * n / total:5.1f} %   {kernel[name] * scale:6.2f}")
print(f"  {'(all, in the kernel)':38} {sum(kernel.values()) * scale:9.2f} {100.0 * sum(kernel.values()) / total:5.1f} %")
if top:
    print(f"\nJunction's {top} costliest methods (their own frames and the JDK code they call), µs a call:")
    for method, n in junction.most_common(top):
        print(f"  {n * scale:7.2f}  {method}")
