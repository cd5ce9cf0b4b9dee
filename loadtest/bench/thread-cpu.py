#!/usr/bin/env python3
"""Where a running process's CPU goes, by thread: reads /proc/PID/task/*/stat now and SECONDS later and prints
each thread group's CPU time in that window (threads named like junction-cpu-0 and junction-cpu-1 are one group),
and per call when CALLS, the calls answered in the window, is given; with each group's voluntary context switches a
second (from /proc/PID/task/*/status: how often its threads blocked, each a wake-up later). Linux only.
Usage: thread-cpu.py PID SECONDS [CALLS]"""
import collections
import os
import re
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def snapshot(pid):
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(") ", 1)[1].split()
        except OSError:
            continue  # the thread ended
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                blocked = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", f.read(), re.M).group(1))
        except OSError:
            continue
        threads[tid] = (name, int(fields[11]) + int(fields[12]), blocked)  # utime + stime, in ticks
    return threads


def group(name):
    return re.sub(r"[-#_ ]?\d+$", "", name)


pid, seconds = sys.argv[1], float(sys.argv[2])
calls = float(sys.argv[3]) if len(sys.argv) > 3 else None
before = snapshot(pid)
time.sleep(seconds)
after = snapshot(pid)
spent = collections.Counter()
switches = collections.Counter()
for tid, (name, ticks, blocked) in after.items():
    _, ticks_before, blocked_before = before.get(tid, (name, 0, 0))
    spent[group(name)] += ticks - ticks_before
    switches[group(name)] += blocked - blocked_before
total = sum(spent.values())
print(f"{total / TICK:.2f} s of CPU in {seconds:g} s" + (f", {total / TICK / calls * 1e6:.1f} µs per call" if calls else ""))
try:
    for name, ticks in spent.most_common():
        if ticks:
            share = f"{100.0 * ticks / total:5.1f} %"
            per_call = f"  {ticks / TICK / calls * 1e6:7.2f} µs/call" if calls else ""
            # The name before the new column: side-by-side.sh reads the third field as the name.
            print(f"  {share}{per_call}  {name:<16} {switches[name] / seconds:8.0f} blocks/s")
except BrokenPipeError:
    pass  # the reader (e.g. head) has what it wanted
