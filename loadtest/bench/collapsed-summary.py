#!/usr/bin/env python3
"""Where a profile's CPU samples went, from collapsed stacks written with async-profiler's `threads` option
(loadtest/bench/async-profile.sh): by thread group, by top frame, and inclusively by method of the libraries on the
call path. With PATTERN, only the stacks that pass through a frame matching it (a regular expression), as shares of
all samples, e.g. 'okhttp|BatchSpanProcessor' for what exporting spans costs.
Usage: collapsed-summary.py PROFILE.collapsed [TOP] [PATTERN]"""
import collections
import re
import sys

from collapsed import plain, stacks, thread_group

profile = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
pattern = re.compile(sys.argv[3]) if len(sys.argv) > 3 else None


total = 0
threads, leaves, inclusive = collections.Counter(), collections.Counter(), collections.Counter()
for frames, n in stacks(profile):
    total += n
    if pattern and not any(pattern.search(f) for f in frames):
        continue
    threads[thread_group(frames[0])] += n
    leaves[plain(frames[-1])] += n
    for f in set(plain(f) for f in frames[1:]):
        inclusive[f] += n

selected = sum(threads.values())
print(f"{total} samples" + (f", {selected} ({100.0 * selected / total:.1f} %) through /{pattern.pattern}/" if pattern else ""))
try:
    for title, counts in (("thread", threads), ("top frame", leaves)):
        print(f"\nby {title}:")
        for k, n in counts.most_common(top):
            print(f"  {100.0 * n / total:5.1f} %  {k}")
    print("\ninclusive (junction and library methods):")
    shown = 0
    for k, n in inclusive.most_common():
        if re.match(r"(io\.junction|io\.opentelemetry|io\.grpc|io\.netty|com\.google\.protobuf|ai\.onnxruntime|okhttp3)", k):
            print(f"  {100.0 * n / total:5.1f} %  {k}")
            shown += 1
            if shown == 3 * top:
                break
except BrokenPipeError:
    pass  # the reader (e.g. head) has what it wanted
