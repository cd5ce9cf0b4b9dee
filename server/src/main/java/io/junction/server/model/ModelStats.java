package io.junction.server.model;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Cumulative statistics of one model version, with Triton's meaning for each field. Updated
 * concurrently by the executors; read as a {@link Snapshot}.
 */
public final class ModelStats {
  /** A count and the nanoseconds it took in total. */
  public record Duration(long count, long nanos) {
    public static final Duration ZERO = new Duration(0, 0);
  }

  /** Per batch size: how long preparing inputs, executing and extracting outputs took. */
  public record BatchStats(long batchSize, Duration computeInput, Duration computeInfer, Duration computeOutput) {}

  /**
   * @param cacheHit requests answered from the response cache, and the time their lookups took
   * @param cacheMiss requests the response cache had no answer for, and the time their lookups and the answers'
   *     insertion took
   */
  public record Snapshot(long lastInferenceMillis, long inferenceCount, long executionCount, Duration success,
      Duration fail, Duration queue, Duration computeInput, Duration computeInfer, Duration computeOutput,
      Map<Long, BatchStats> batches, Map<FailureReason, Long> failures, Duration cacheHit, Duration cacheMiss) {}

  private static final class Counter {
    private final LongAdder count = new LongAdder();
    private final LongAdder nanos = new LongAdder();

    void add(long n) {
      count.increment();
      nanos.add(n);
    }

    Duration read() {
      return new Duration(count.sum(), nanos.sum());
    }
  }

  private static final class BatchCounter {
    private final Counter input = new Counter();
    private final Counter infer = new Counter();
    private final Counter output = new Counter();
  }

  private final AtomicLong lastInferenceMillis = new AtomicLong();
  private final LongAdder inferenceCount = new LongAdder();
  private final LongAdder executionCount = new LongAdder();
  private final Counter success = new Counter();
  private final Counter fail = new Counter();
  private final LongAdder[] failures = new LongAdder[FailureReason.values().length];
  private final Counter queue = new Counter();
  private final Counter computeInput = new Counter();
  private final Counter computeInfer = new Counter();
  private final Counter computeOutput = new Counter();
  private final Map<Long, BatchCounter> batches = new ConcurrentHashMap<>();
  private final Counter cacheHit = new Counter();
  private final Counter cacheMiss = new Counter();


  /** A request finished successfully, {@code nanos} after it arrived, after waiting {@code queueNanos}. */
  public void recordSuccess(long batchSize, long nanos, long queueNanos, long inputNanos, long inferNanos,
      long outputNanos) {
    lastInferenceMillis.set(System.currentTimeMillis());
    inferenceCount.add(batchSize);
    success.add(nanos);
    queue.add(queueNanos);
    computeInput.add(inputNanos);
    computeInfer.add(inferNanos);
    computeOutput.add(outputNanos);
  }

  {
    for (int i = 0; i < failures.length; i++) {
      failures[i] = new LongAdder();
    }
  }

  /**
   * A request answered from the response cache, {@code nanos} after it arrived, {@code queueNanos} of them before
   * its lookup, which took {@code lookupNanos}. A success, as in Triton, but neither an inference nor an execution.
   */
  public void recordCacheHit(long nanos, long queueNanos, long lookupNanos) {
    lastInferenceMillis.set(System.currentTimeMillis());
    success.add(nanos);
    queue.add(queueNanos);
    cacheHit.add(lookupNanos);
  }

  /** A request the response cache had no answer for; its lookup and the insertion of its answer took {@code nanos}. */
  public void recordCacheMiss(long nanos) {
    cacheMiss.add(nanos);
  }

  /** A request failed, {@code nanos} after it arrived. */
  public void recordFailure(long nanos, FailureReason reason) {
    lastInferenceMillis.set(System.currentTimeMillis());
    fail.add(nanos);
    failures[reason.ordinal()].increment();
  }

  /** One model execution over {@code batchSize} rows. */
  public void recordExecution(long batchSize, long inputNanos, long inferNanos, long outputNanos) {
    executionCount.increment();
    BatchCounter b = batches.computeIfAbsent(batchSize, k -> new BatchCounter());
    b.input.add(inputNanos);
    b.infer.add(inferNanos);
    b.output.add(outputNanos);
  }

  public Snapshot snapshot() {
    Map<Long, BatchStats> perBatch = new TreeMap<>();
    batches.forEach((size, b) -> perBatch.put(size,
        new BatchStats(size, b.input.read(), b.infer.read(), b.output.read())));
    return new Snapshot(lastInferenceMillis.get(), inferenceCount.sum(), executionCount.sum(), success.read(),
        fail.read(), queue.read(), computeInput.read(), computeInfer.read(), computeOutput.read(), perBatch,
        failuresByReason(), cacheHit.read(), cacheMiss.read());
  }

  private Map<FailureReason, Long> failuresByReason() {
    Map<FailureReason, Long> byReason = new EnumMap<>(FailureReason.class);
    for (FailureReason r : FailureReason.values()) {
      byReason.put(r, failures[r.ordinal()].sum());
    }
    return byReason;
  }
}
