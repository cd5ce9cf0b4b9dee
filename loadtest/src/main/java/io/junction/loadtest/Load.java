package io.junction.loadtest;

import io.grpc.ManagedChannel;
import io.junction.proto.inference.GRPCInferenceServiceGrpc;
import io.junction.proto.inference.ModelInferRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The load generator as a library, for benchmarks: a closed loop of {@code concurrency} callers sending
 * one request over a channel for a while, measured with the same runner and report as the CLI.
 */
public final class Load {
  /** Calls per second and latency percentiles of a measured window, and how many calls were answered and failed. */
  public record Result(double callsPerSecond, double p50Micros, double p95Micros, double p99Micros, long answered,
      long failures) {}

  private Load() {}

  /** Warms up for {@code warmupMillis} (0: no warm-up), then measures {@code measureMillis} (must be positive). */
  public static Result closedLoop(ManagedChannel channel, ModelInferRequest request, int concurrency, long warmupMillis,
      long measureMillis) throws InterruptedException {
    if (measureMillis <= 0) {
      throw new IllegalArgumentException("measureMillis must be positive, got " + measureMillis);
    }
    var stub = GRPCInferenceServiceGrpc.newFutureStub(channel);
    long timeout = TimeUnit.MINUTES.toNanos(1);
    if (warmupMillis > 0) { // the runner reads a duration of 0 as "no limit"
      new Runner(List.of(stub), request, timeout).closedLoop(concurrency, 0, TimeUnit.MILLISECONDS.toNanos(warmupMillis));
    }
    Runner.Result r = new Runner(List.of(stub), request, timeout)
        .closedLoop(concurrency, 0, TimeUnit.MILLISECONDS.toNanos(measureMillis));
    Histogram h = r.latencies();
    long failures = r.codes().entrySet().stream().filter(e -> !e.getKey().equals("OK")).mapToLong(e -> e.getValue()).sum();
    long ok = r.codes().getOrDefault("OK", 0L);
    return new Result(ok / (r.totalNanos() / 1e9), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(95) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0, ok, failures);
  }
}
