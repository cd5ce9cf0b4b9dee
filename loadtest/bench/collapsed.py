"""Reading async-profiler's collapsed stacks (loadtest/bench/async-profile.sh): one line per stack, its frames joined
by ';' from the root (the thread first, when profiled with the `threads` option) and its weight last (samples, or bytes
for an allocation profile). Shared by the summaries beside it."""
import re


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
