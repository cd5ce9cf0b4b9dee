#!/usr/bin/env python3
"""Heap bytes per call from an allocation profile (loadtest/bench/async-profile.sh PID SECONDS OUT alloc), by the code
that allocated them: each stack is charged to its first frame outside the JDK (so a HashMap made by Junction's code
counts as Junction's), grouped by library; with TOP, Junction's own largest allocation sites.
Usage: alloc-summary.py PROFILE.collapsed CALLS [TOP]"""
import collections
import re
import sys

from collapsed import plain, stacks

profile, calls = sys.argv[1], int(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 0
LIBRARIES = r"(io\.junction|io\.grpc|io\.netty|com\.google\.protobuf|ai\.onnxruntime|io\.opentelemetry|io\.prometheus)"


total = 0
by_library, junction_sites = collections.Counter(), collections.Counter()
for raw, n in stacks(profile):
    total += n
    frames = [plain(f) for f in raw]
    allocated, callers = frames[-1], frames[1:-1]
    owner = next((f for f in reversed(callers) if not re.match(r"(java|jdk|sun)\.", f)), "other")
    library = re.match(LIBRARIES, owner)
    by_library[library.group(1) if library else "other (JVM, JDK)"] += n
    if owner.startswith("io.junction"):
        junction_sites[f"{owner} -> {allocated}"] += n

print(f"{total / calls:.0f} bytes a call over {calls} calls")
for library, n in by_library.most_common():
    print(f"  {n / calls:7.0f}  {library}")
if top:
    print(f"\nJunction's {top} largest allocation sites, bytes a call:")
    for site, n in junction_sites.most_common(top):
        print(f"  {n / calls:7.0f}  {site}")
