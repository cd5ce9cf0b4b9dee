#!/usr/bin/env python3
"""Where servers measured side by side differ, by CPU profile: each one's CPU µs a call by component (as cpu-summary.py
charges them), then the methods whose cost a call differs most from the first server's, each charged as its component
is (the deepest frame on a stack that belongs to a library on the call's path). Profiles taken over the same windows
(side-by-side.sh -p) share the VM's phase, so their differences are the servers' own, down to what two JVMs of one
build differ by: compare two servers of one build in the same run to see that floor.
Usage: cpu-compare.py [--top N] NAME=CALLS:CPU_MICROS:PROFILE.collapsed[,PROFILE.collapsed...] ...
(several profiles of one server, e.g. one a window, count together with the calls and CPU of all of them)"""
import sys

from collapsed import CpuProfile

args = sys.argv[1:]
top = 15
if len(args) >= 2 and args[0] == "--top":
    top, args = int(args[1]), args[2:]
if len(args) < 2:
    sys.exit(__doc__)
servers = []
for arg in args:
    name, _, rest = arg.rpartition("=")
    calls, cpu, paths = rest.split(":", 2)
    profile = CpuProfile(paths.split(","))
    servers.append((name, int(calls), int(cpu), profile, profile.scale(int(calls), int(cpu))))

width = max(12, *(len(name) for name, *_ in servers))
print(f"{'CPU µs a call':40}" + "".join(f" {name:>{width}}" for name, *_ in servers))
print(f"  {'all':38}" + "".join(f" {cpu / calls:{width}.2f}" for _, calls, cpu, _, _ in servers))
components = sorted({c for *_, p, _ in servers for c in p.components},
                    key=lambda c: -max(p.components[c] * s for *_, p, s in servers))
for component in components:
    print(f"  {component:38}" + "".join(f" {p.components[component] * s:{width}.2f}" for *_, p, s in servers))
print(f"  {'(samples)':38}" + "".join(f" {p.total:{width}d}" for *_, p, _ in servers))

base = servers[0]
for name, _, _, profile, scale in servers[1:]:
    methods = set(profile.methods) | set(base[3].methods)
    diffs = sorted(((profile.methods[m] * scale - base[3].methods[m] * base[4], m) for m in methods),
                   key=lambda d: -abs(d[0]))
    print(f"\n{name} against {base[0]}: the {top} methods that differ most, µs a call (+ dearer in {name})")
    for diff, (component, method) in diffs[:top]:
        print(f"  {diff:+7.2f}  {method}  [{component}]")
