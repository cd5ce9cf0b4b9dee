package io.junction.server.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/** Closed-loop load: {@code concurrency} callers, each calling again as soon as an answer comes. */
final class ClosedLoop {
  /** Latencies of all calls and calls per second over the measured window. */
  record Result(Histogram latency, double callsPerSecond) {
    double p50Micros() {
      return latency.getValueAtPercentile(50) / 1000.0;
    }

    double p99Micros() {
      return latency.getValueAtPercentile(99) / 1000.0;
    }
  }

  private ClosedLoop() {}

  static Result run(int concurrency, long warmupMillis, long measureMillis, Runnable call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      long warmupEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
      long end = warmupEnd + TimeUnit.MILLISECONDS.toNanos(measureMillis);
      List<Future<long[]>> parts = new ArrayList<>();
      List<Histogram> histograms = new ArrayList<>();
      for (int t = 0; t < concurrency; t++) {
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        histograms.add(h);
        parts.add(pool.submit(() -> {
          long calls = 0;
          while (true) {
            long s = System.nanoTime();
            if (s - end >= 0) {
              return new long[] {calls};
            }
            call.run();
            long e = System.nanoTime();
            if (s - warmupEnd >= 0 && e - end < 0) {
              h.recordValue(e - s);
              calls++;
            }
          }
        }));
      }
      long total = 0;
      for (Future<long[]> f : parts) {
        total += f.get()[0];
      }
      Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
      histograms.forEach(all::add);
      return new Result(all, total / (measureMillis / 1000.0));
    } finally {
      pool.shutdownNow();
    }
  }
}
