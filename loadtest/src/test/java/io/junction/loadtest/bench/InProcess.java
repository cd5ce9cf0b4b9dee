package io.junction.loadtest.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Loops over an in-process call (the ONNX Runtime baseline), where there is no server to load. */
final class InProcess {
  private InProcess() {}

  static double callsPerSecond(int threads, long warmupMillis, long measureMillis, Runnable call) throws Exception {
    run(threads, warmupMillis, call);
    return run(threads, measureMillis, call) / (measureMillis / 1000.0);
  }

  static double p50Micros(long millis, Runnable call) {
    long end = System.nanoTime() + millis * 1_000_000L;
    List<Long> samples = new ArrayList<>();
    while (System.nanoTime() < end) {
      long s = System.nanoTime();
      call.run();
      samples.add(System.nanoTime() - s);
    }
    long[] a = samples.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a[a.length / 2] / 1000.0;
  }

  private static long run(int threads, long millis, Runnable call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long end = System.nanoTime() + millis * 1_000_000L;
    List<Future<Long>> parts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      parts.add(pool.submit(() -> {
        long n = 0;
        while (System.nanoTime() < end) {
          call.run();
          n++;
        }
        return n;
      }));
    }
    long total = 0;
    for (Future<Long> f : parts) {
      total += f.get();
    }
    pool.shutdown();
    return total;
  }
}
