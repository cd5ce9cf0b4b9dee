"""Reading async-profiler's collapsed stacks (loadtest/bench/async-profile.sh): one line per stack, its frames joined
by ';' from the root (the thread first, when profiled with the `threads` option) and its weight last (samples, or bytes
for an allocation profile). Shared by the summaries beside it."""
import collections
import re

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
OUTSIDE = "JVM, JDK (outside any library)"


def plain(frame):
    """A frame as a method name: without async-profiler's _[j] (compiled), _[i] (inlined), _[k] (kernel) marks."""
    return re.sub(r"_\[[jik0]\]$", "", frame).replace("/", ".")


def thread_group(thread):
    """A thread's name without its tid and trailing number, so that a pool's threads count together."""
    name = re.sub(r"^\[|\s*tid=\d+\]$", "", thread)
    return re.sub(r"[-#_ ]?\d+$", "", name)


def stacks(path):
    """Each stack of the profile as (its raw frames, root first, marks kept; its weight)."""
    with open(path) as profile:
        for line in profile:
            stack, _, weight = line.rstrip("\n").rpartition(" ")
            yield stack.split(";"), int(weight)


def runtime_threads(thread):
    """The JIT's or the GC's (and the VM's) threads, by name; None for any other."""
    name = thread_group(thread)
    if re.search(r"Compiler|Sweeper", name):
        return "JIT compiler threads"
    if re.search(r"GC|G1|Conc|Refine|VM Thread|Service Thread", name):
        return "GC and VM threads"
    return None


def library_frame(frames):
    """The component and the method of the deepest frame on a stack that belongs to a library on the call's path."""
    for frame in reversed(frames):
        for name, pattern in LIBRARIES:
            if re.match(pattern, frame):
                return name, frame
    return OUTSIDE, frames[-1] if frames else "?"


class CpuProfile:
    """A CPU profile's samples by component: the JIT's and the GC's threads by thread name; a thread parking or waking
    another (the hand-offs between threads: futex calls under LockSupport) apart, whoever asked; every other sample
    charged to the deepest frame on its stack that belongs to a library on the call's path (so a HashMap lookup in
    Junction's code is Junction's, ONNX Runtime's native code and JNI lookups under OrtSession.run are ONNX
    Runtime's, and the protobuf code generated for Junction's messages is protobuf's). `methods` counts the samples
    by that frame, for every component."""

    def __init__(self, paths):
        self.total = 0
        self.components = collections.Counter()
        self.kernel = collections.Counter()
        self.methods = collections.Counter()
        for path in [paths] if isinstance(paths, str) else paths:
            for raw, n in stacks(path):
                self.total += n
                frames = [plain(f) for f in raw[1:]]
                runtime = runtime_threads(raw[0])
                if runtime:
                    component, method = runtime, runtime
                elif any(HAND_OFF.match(f) for f in frames):
                    component, method = "thread hand-offs (parking, waking)", "LockSupport.park/unpark"
                else:
                    component, method = library_frame(frames)
                self.components[component] += n
                self.methods[(component, method)] += n
                if raw[-1].endswith("_[k]"):
                    self.kernel[component] += n

    def scale(self, calls, cpu_micros):
        """µs of CPU a call per sample: the samples scaled to the process's own CPU time over the profile."""
        return cpu_micros / self.total / calls if self.total and calls else 0.0
