#!/usr/bin/env python3
"""Where a JFR recording's CPU samples went: by thread group, by top frame, and by the first frame of
each sample that belongs to a package of interest. Usage: jfr-summary.py RECORDING.jfr [TOP]"""
import collections
import re
import subprocess
import sys

recording = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", recording],
                      capture_output=True, text=True, check=True).stdout
samples = []
for block in text.split("jdk.ExecutionSample")[1:]:
    thread = re.search(r'sampledThread = "([^"]*)"', block)
    frames = re.findall(r"^\s+([\w.$<>/]+\.[\w$<>]+)\(", block, re.M)
    if thread and frames:
        samples.append((thread.group(1), frames))

def group(thread):
    name = re.sub(r"[-#]?\d+$", "", thread)
    return re.sub(r"-\d+-", "-N-", name)

total = len(samples)
print(f"{total} samples")
for title, key in (("thread", lambda s: group(s[0])), ("top frame", lambda s: s[1][0])):
    counts = collections.Counter(key(s) for s in samples)
    print(f"\nby {title}:")
    for k, n in counts.most_common(top):
        print(f"  {100.0 * n / total:5.1f} %  {k}")
# Inclusive: a sample counts once for every method on its stack (what a call tree would show).
inclusive = collections.Counter()
for _, frames in samples:
    for f in set(frames):
        inclusive[f] += 1
print("\ninclusive (junction and library entry points):")
for k, n in inclusive.most_common(400):
    if re.match(r"(io\.junction|io\.opentelemetry|io\.grpc|com\.google\.protobuf|ai\.onnxruntime|io\.prometheus)", k):
        print(f"  {100.0 * n / total:5.1f} %  {k}")
