package io.junction.server.bench;

import io.junction.server.inference.RequestKey;
import io.junction.server.inference.ResponseCache;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the response cache costs a request, on one thread, by request size: making the key and looking it up,
 * on a hit (the answer found, its tensors made) and on a miss (not found, then stored: the copies of the inputs
 * and outputs), each beside copying the request's bytes once, the floor any server pays to read them. A miss is
 * measured in a cache with room, and in a full one (64 MiB) twice: a request's first miss, which a full cache does not
 * keep, and its second, which it keeps, evicting others (what every miss of a full cache cost before). Then a hit
 * among keys that all share one hash (16 KiB requests that differ only between the hash's samples, as a client could
 * craft them): the cache's map keeps them sorted, so a lookup compares a few of them, not all.
 *
 * <pre>
 * mvn -q -B install -DskipTests
 * taskset -c 1 mvn -q -B -o -pl server exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=io.junction.server.bench.ResponseCacheBenchmark -Dexec.args="7"
 * </pre>
 * Argument: rounds (the first is warm-up and not reported in the medians).
 */
public final class ResponseCacheBenchmark {
  /** The demo mlp's request (8 floats), the demo image classifier's (110,592 bytes), a 1 MiB image. */
  private static final int[] SIZES = {32, 110_592, 1 << 20};

  private ResponseCacheBenchmark() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    System.out.printf("%-12s %12s %12s %12s %16s %16s %12s%n", "request", "copy µs", "hit µs", "miss µs",
        "full, 1st µs", "full, 2nd µs", "hit / copy");
    for (int size : SIZES) {
      int calls = (int) Math.max(200, Math.min(200_000, (64L << 20) / size));
      double[] copy = new double[rounds - 1];
      double[] hit = new double[rounds - 1];
      double[] miss = new double[rounds - 1];
      double[] fullFirst = new double[rounds - 1];
      double[] fullSecond = new double[rounds - 1];
      for (int round = 0; round < rounds; round++) {
        Measured m = measure(size, calls);
        if (round > 0) {
          copy[round - 1] = m.copy;
          hit[round - 1] = m.hit;
          miss[round - 1] = m.miss;
          fullFirst[round - 1] = m.fullFirst;
          fullSecond[round - 1] = m.fullSecond;
        }
      }
      System.out.printf("%-12s %12.2f %12.2f %12.2f %16.2f %16.2f %12.2f%n", size + " B", median(copy), median(hit),
          median(miss), median(fullFirst), median(fullSecond), median(hit) / median(copy));
    }
    System.out.printf("%n%-28s %14s %14s%n", "16 KiB requests", "hit alone µs", "hit among µs");
    for (int colliding : new int[] {10, 100, 1000, 4000}) {
      double[] alone = new double[rounds - 1];
      double[] among = new double[rounds - 1];
      for (int round = 0; round < rounds; round++) {
        double[] m = measureColliding(colliding);
        if (round > 0) {
          alone[round - 1] = m[0];
          among[round - 1] = m[1];
        }
      }
      System.out.printf("%-28s %14.2f %14.2f%n", colliding + " sharing one hash", median(alone), median(among));
    }
  }

  /** A hit on a key alone in the cache, then on one of {@code n} keys that share its hash. */
  private static double[] measureColliding(int n) {
    int size = 16 * 1024;
    int calls = 20_000;
    Tensor output = Tensor.fixed("y", DataType.FP32, new long[] {1, 4}, filled(16, 2));
    ResponseCache alone = new ResponseCache(1L << 30);
    ResponseCache shared = new ResponseCache(1L << 30);
    alone.store(key(collidingContents(size, 0), size), List.of(output));
    for (int i = 0; i < n; i++) {
      shared.store(key(collidingContents(size, i), size), List.of(output));
    }
    ByteBuffer probe = collidingContents(size, n / 2);
    ByteBuffer aloneProbe = collidingContents(size, 0);
    long sum = 0;
    long start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      sum += alone.lookup(key(aloneProbe, size)).size();
    }
    double a = (System.nanoTime() - start) / 1e3 / calls;
    start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      sum += shared.lookup(key(probe, size)).size();
    }
    double b = (System.nanoTime() - start) / 1e3 / calls;
    if (sum == 42) {
      System.out.println();
    }
    return new double[] {a, b};
  }

  /** The same bytes everywhere but at offset 2150, between the hash's samples of a 16 KiB input, which hold n. */
  private static ByteBuffer collidingContents(int size, int n) {
    ByteBuffer b = filled(size, 1);
    b.putShort(2150, (short) n);
    return b;
  }

  private record Measured(double copy, double hit, double miss, double fullFirst, double fullSecond) {}

  private static Measured measure(int size, int calls) {
    ResponseCache cache = new ResponseCache(1L << 30);
    ByteBuffer request = filled(size, 1);
    Tensor output = Tensor.fixed("y", DataType.FP32, new long[] {1, 4}, filled(16, 2));
    ByteBuffer sink = ByteBuffer.allocateDirect(size);
    long sum = 0;

    long start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      sink.clear();
      sink.put(request.duplicate());
      sum += sink.get(i % size);
    }
    double copy = (System.nanoTime() - start) / 1e3 / calls;

    cache.store(key(request, size), List.of(output));
    start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      sum += cache.lookup(key(request, size)).size();
    }
    double hit = (System.nanoTime() - start) / 1e3 / calls;

    List<ByteBuffer> distinct = new ArrayList<>(calls);
    int missCalls = Math.min(calls, (int) Math.max(50, (256L << 20) / size));
    for (int i = 0; i < missCalls; i++) {
      distinct.add(filled(size, i + 10));
    }
    start = System.nanoTime();
    for (ByteBuffer b : distinct) {
      RequestKey key = key(b, size);
      if (cache.lookup(key) == null) {
        cache.store(key, List.of(output));
      }
    }
    double miss = (System.nanoTime() - start) / 1e3 / missCalls;

    // A full cache: filled with other requests' answers until it keeps one no more.
    ResponseCache full = new ResponseCache(64L << 20);
    ByteBuffer other;
    int seed = -1;
    do {
      other = filled(size, seed--);
      full.store(key(other, size), List.of(output));
    } while (full.lookup(key(other, size)) != null);
    double[] fullMiss = new double[2];
    for (int pass = 0; pass < 2; pass++) {
      start = System.nanoTime();
      for (ByteBuffer b : distinct) {
        RequestKey key = key(b, size);
        if (full.lookup(key) == null) {
          full.store(key, List.of(output));
        }
      }
      fullMiss[pass] = (System.nanoTime() - start) / 1e3 / missCalls;
    }
    if (sum == 42) {
      System.out.println(); // keeps the loops' results alive
    }
    return new Measured(copy, hit, miss, fullMiss[0], fullMiss[1]);
  }

  private static RequestKey key(ByteBuffer contents, int size) {
    Tensor x = Tensor.fixed("x", DataType.FP32, new long[] {1, size / 4}, contents);
    return RequestKey.of("m", 1, 0, Map.of("x", x), List.of("y"));
  }

  private static ByteBuffer filled(int bytes, int seed) {
    ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < bytes / 4; i++) {
      b.putFloat(seed + i * 0.5f);
    }
    return b.flip();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
