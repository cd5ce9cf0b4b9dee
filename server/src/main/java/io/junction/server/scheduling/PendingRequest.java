package io.junction.server.scheduling;

import io.junction.server.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/** A request waiting in a {@link DynamicBatcher}, with what batch formation needs to know about it. */
final class PendingRequest {
  final InferenceRequest request;
  final CompletableFuture<InferenceResult> future = new CompletableFuture<>();
  /** Priority level, 1 (highest) .. n. */
  final int level;
  final long enqueuedNanos;
  /** When its queue timeout passes, or {@link Long#MAX_VALUE}. */
  final long queueTimeoutAt;
  /** Non-batch dimensions of every input: only requests with equal keys share a batch. */
  final ShapeKey shape;
  /** Its queue timeout passed under the DELAY policy: it runs only when nothing else waits. */
  boolean delayed;

  PendingRequest(InferenceRequest request, int level, long enqueuedNanos, long queueTimeoutNanos) {
    this.request = request;
    this.level = level;
    this.enqueuedNanos = enqueuedNanos;
    this.queueTimeoutAt = queueTimeoutNanos == 0 ? Long.MAX_VALUE : enqueuedNanos + queueTimeoutNanos;
    this.shape = ShapeKey.of(request);
  }

  long rows() {
    return request.batchSize();
  }

  /** The earliest time something must happen to this request without a new arrival. */
  long nextEvent() {
    long deadline = request.deadlineNanos();
    return delayed ? deadline : Math.min(deadline, queueTimeoutAt);
  }

  /** Input shapes without their first (batch) dimension, in a stable input order. */
  record ShapeKey(long[] dims) {
    static ShapeKey of(InferenceRequest request) {
      long[] all = request.inputs().values().stream()
          .sorted((a, b) -> a.name().compareTo(b.name()))
          .flatMapToLong(t -> Arrays.stream(tail(t)))
          .toArray();
      return new ShapeKey(all);
    }

    private static long[] tail(Tensor t) {
      long[] shape = t.shape();
      if (shape.length == 0) {
        return new long[] {0};
      }
      long[] out = new long[shape.length];
      // The rank marker keeps [2,3]+[4] apart from [2]+[3,4]; dim 0 is the batch and may differ.
      out[0] = -shape.length;
      System.arraycopy(shape, 1, out, 1, shape.length - 1);
      return out;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ShapeKey k && Arrays.equals(dims, k.dims);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(dims);
    }
  }
}
