package io.junction.loadtest;

import io.grpc.ManagedChannel;
import io.junction.proto.inference.ModelInferRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * The load generator as a library, for benchmarks: a closed loop of {@code concurrency} callers sending
 * one request over a channel for a while, measured with the same runner and report as the CLI.
 */
public final class Load {
  /**
   * Calls per second and latency percentiles of a measured window, how many calls were answered and failed,
   * and the CPU the server spent per answered call in that window (NaN when not measured).
   */
  public record Result(double callsPerSecond, double p50Micros, double p95Micros, double p99Micros, long answered,
      long failures, double serverCpuMicrosPerCall) {}

  private Load() {}

  /** Warms up for {@code warmupMillis} (0: no warm-up), then measures {@code measureMillis} (must be positive). */
  public static Result closedLoop(ManagedChannel channel, ModelInferRequest request, int concurrency, long warmupMillis,
      long measureMillis) throws InterruptedException {
    return closedLoop(channel, request, concurrency, warmupMillis, measureMillis, () -> -1);
  }

  /**
   * As {@link #closedLoop(ManagedChannel, ModelInferRequest, int, long, long)}, also reading the server's CPU
   * time before and after the measured window: a cost per call that another tenant of the machine slowing the
   * server down does not change, unlike the throughput.
   *
   * @param serverCpuNanos the server process's CPU time so far, or a negative value when unknown
   */
  public static Result closedLoop(ManagedChannel channel, ModelInferRequest request, int concurrency, long warmupMillis,
      long measureMillis, LongSupplier serverCpuNanos) throws InterruptedException {
    return closedLoop(channel, InferMethod.MODEL_INFER, request, concurrency, warmupMillis, measureMillis, serverCpuNanos);
  }

  /** As {@link #closedLoop(ManagedChannel, ModelInferRequest, int, long, long, LongSupplier)}, by {@code method}. */
  public static Result closedLoop(ManagedChannel channel, InferMethod method, ModelInferRequest request, int concurrency,
      long warmupMillis, long measureMillis, LongSupplier serverCpuNanos) throws InterruptedException {
    if (measureMillis <= 0) {
      throw new IllegalArgumentException("measureMillis must be positive, got " + measureMillis);
    }
    long timeout = TimeUnit.MINUTES.toNanos(1);
    if (warmupMillis > 0) { // the runner reads a duration of 0 as "no limit"
      try (Calls warming = method.open(List.of(channel), timeout)) {
        new Runner(warming, request).closedLoop(concurrency, 0, TimeUnit.MILLISECONDS.toNanos(warmupMillis));
      }
    }
    long cpuBefore = serverCpuNanos.getAsLong();
    Runner.Result r;
    try (Calls measured = method.open(List.of(channel), timeout)) {
      r = new Runner(measured, request).closedLoop(concurrency, 0, TimeUnit.MILLISECONDS.toNanos(measureMillis));
    }
    long cpuAfter = serverCpuNanos.getAsLong();
    Histogram h = r.latencies();
    long failures = r.codes().entrySet().stream().filter(e -> !e.getKey().equals("OK")).mapToLong(e -> e.getValue()).sum();
    long ok = r.codes().getOrDefault("OK", 0L);
    return new Result(ok / (r.totalNanos() / 1e9), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(95) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0, ok, failures,
        cpuBefore < 0 || cpuAfter < 0 || ok == 0 ? Double.NaN : (cpuAfter - cpuBefore) / 1000.0 / ok);
  }
}
