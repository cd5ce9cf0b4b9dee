#!/usr/bin/env python3
"""How many calls a second one Junction core takes for a model, and the autoscaling target that follows.

    mvn -q -B install -DskipTests
    python3 deploy/capacity.py --model mlp --seconds 15 --repeats 3

Starts the server jar on the model repository (the bundled demo by default) pinned to one core with
--cpu-slots 1, and the load generator pinned to another (taskset), so the two do not share a core. Each
repeat measures:
  1. a closed loop of --concurrency callers: calls/s, and the server's CPU time per call (its process's
     CPU time from /proc over the calls it counted in /metrics), so 1 / that is what one core serves when
     it does nothing else, whether or not one load-generator core can drive it that hard;
  2. an open loop at --headroom (70 %) of the closed loop's rate: latency counted from each call's
     scheduled start, the server's own mean time per call, and from them work in flight (Little's law:
     calls/s x the server's time per call), what junction_inflight_requests reads at that load.
The HPA's averageValue is work in flight at the planned load times the cores (--cpu-slots) of a replica.
Prints each repeat and the medians; deploy/README.md explains them.
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_JAR = os.path.join(ROOT, "server", "target", "junction-server.jar")
LOADTEST_JAR = os.path.join(ROOT, "loadtest", "target", "junction-loadtest.jar")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(http_port, model):
    """Successful calls and their total server time (µs) for the model, from /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
    def total(name):
        pattern = re.compile(rf'^{name}{{[^}}]*model="{re.escape(model)}"[^}}]*}} ([0-9.eE+-]+)$', re.M)
        return sum(float(v) for v in pattern.findall(text))
    return total("nv_inference_request_success"), total("nv_inference_request_duration_us")


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadtest(cpu, grpc_port, model, seconds, extra):
    # The load generator's own JVM warms up first (its JIT would otherwise share its core with the run).
    cmd = ["taskset", "-c", cpu, "java", "-jar", LOADTEST_JAR, "--target", f"127.0.0.1:{grpc_port}", "--insecure",
           "--model", model, "-z", f"{seconds}s", "--warmup", "3s", "-O", "json"] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def percentile(report, p):
    for entry in report["latencyDistribution"]:
        if entry["percentage"] == p:
            return entry["latency"] / 1e6
    raise KeyError(f"no p{p} in the report")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--model-repository", help="default: the demo repository the build bundles")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--headroom", type=float, default=0.7, help="share of the most a core serves to plan for")
    ap.add_argument("--replica-cores", type=int, default=2, help="cores (--cpu-slots) of one replica")
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    args = ap.parse_args()
    for jar in (SERVER_JAR, LOADTEST_JAR):
        if not os.path.exists(jar):
            sys.exit(f"{jar} missing: run mvn -q -B install -DskipTests first")
    if not shutil.which("taskset"):
        sys.exit("taskset not found (util-linux): the server and the load generator must not share a core")

    repo = args.model_repository or os.path.join(ROOT, "server", "target", "classes", "demo-repository")
    grpc_port, http_port = free_port(), free_port()
    log = tempfile.NamedTemporaryFile(prefix="junction-capacity-", suffix=".log", delete=False)
    server = subprocess.Popen(["taskset", "-c", args.server_cpu, "java", "-jar", SERVER_JAR, "--model-repository", repo,
                               "--cpu-slots", "1", "--tracing", "false", "--grpc-port", str(grpc_port),
                               "--http-port", str(http_port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v2/health/ready", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"the server exited; see {log.name}")
                time.sleep(1)
        loadtest(args.client_cpu, grpc_port, args.model, 3, ["-c", str(args.concurrency)])  # JIT warm-up, both sides

        rows = []
        for i in range(args.repeats):
            calls_before, cpu_before = scrape(http_port, args.model)[0], cpu_seconds(server.pid)
            closed = loadtest(args.client_cpu, grpc_port, args.model, args.seconds, ["-c", str(args.concurrency)])
            cpu_us = (cpu_seconds(server.pid) - cpu_before) * 1e6 / (scrape(http_port, args.model)[0] - calls_before)
            rate = max(1, int(closed["rps"] * args.headroom))
            before = scrape(http_port, args.model)
            opened = loadtest(args.client_cpu, grpc_port, args.model, args.seconds, ["--rps", str(rate)])
            after = scrape(http_port, args.model)
            calls = after[0] - before[0]
            server_ms = (after[1] - before[1]) / calls / 1000 if calls else float("nan")
            rows.append({"max_rps": closed["rps"], "cpu_us": cpu_us, "core_rps": 1e6 / cpu_us,
                         "busy": closed["rps"] * cpu_us / 1e6, "rate": rate, "achieved": opened["rps"],
                         "p50_ms": percentile(opened, 50), "p99_ms": percentile(opened, 99),
                         "server_ms": server_ms, "inflight": opened["rps"] * server_ms / 1000})
            r = rows[-1]
            print(f"repeat {i + 1}: closed loop (c={args.concurrency}) {r['max_rps']:.0f}/s, server CPU {r['cpu_us']:.0f} us/call "
                  f"(its core {r['busy']:.0%} busy; a whole core: {r['core_rps']:.0f}/s); at {rate}/s "
                  f"(open loop): p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, server {r['server_ms']:.3f} ms/call, "
                  f"in flight {r['inflight']:.2f}", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    per_replica = med["core_rps"] * args.replica_cores
    target = max(1, math.ceil(med["inflight"] * args.replica_cores))
    print(f"\nmodel {args.model}, {args.repeats} repeats of {args.seconds}s, medians:")
    print(f"  server CPU per call            {med['cpu_us']:.0f} us: a core serves at most ~{med['core_rps']:.0f} calls/s")
    print(f"  closed loop, c={args.concurrency}              {med['max_rps']:.0f} calls/s (server core {med['busy']:.0%} busy"
          + ("; the load generator was the limit" if med["busy"] < 0.9 else "") + ")")
    print(f"  open loop at {med['rate']:.0f}/s             p50 {med['p50_ms']:.2f} ms, p99 {med['p99_ms']:.2f} ms, "
          f"server {med['server_ms']:.3f} ms/call, in flight {med['inflight']:.2f}")
    print(f"  a {args.replica_cores}-core replica: at most ~{per_replica:.0f} calls/s, plan for "
          f"{per_replica * args.headroom:.0f} ({args.headroom:.0%}); HPA averageValue of junction_inflight_requests "
          f"~ {target} (in flight per core x {args.replica_cores})")


if __name__ == "__main__":
    main()
