package io.junction.server.scheduling;

import io.junction.server.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

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
  // Once-only flags as fields set through updaters: no objects of their own on the per-request path.
  private static final AtomicIntegerFieldUpdater<PendingRequest> COUNTED =
      AtomicIntegerFieldUpdater.newUpdater(PendingRequest.class, "counted");
  private static final AtomicIntegerFieldUpdater<PendingRequest> INPUTS_DONE =
      AtomicIntegerFieldUpdater.newUpdater(PendingRequest.class, "inputsDone");
  /** 1 once whoever records this request's one outcome in the statistics first has claimed it. */
  private volatile int counted;
  /** 1 once no batch will read the request's inputs any more (their memory released). */
  private volatile int inputsDone;

  /**
   * Claims the right to record this request's outcome: true once, for the first caller. The statistics
   * are recorded before the answer is given, so a caller that has its answer finds it counted.
   */
  boolean claimOutcome() {
    return COUNTED.compareAndSet(this, 0, 1);
  }

  /**
   * No batch reads this request's inputs any more: it ran, failed, expired or was taken out of the queue.
   * Releases the scheduler's hold on their memory, once, whoever gets here first.
   */
  void inputsDone() {
    if (INPUTS_DONE.compareAndSet(this, 0, 1)) {
      request.inputsMemory().release();
    }
  }

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

  /** The request's id for messages. */
  String id() {
    return request.id().isEmpty() ? "(no id)" : "'" + request.id() + "'";
  }

  /** The earliest time something must happen to this request without a new arrival. */
  long nextEvent() {
    long deadline = request.deadlineNanos();
    return delayed ? deadline : Math.min(deadline, queueTimeoutAt);
  }

  /** Input shapes without their first (batch) dimension, in a stable input order. */
  record ShapeKey(long[] dims) {
    /** Built in the model's input order, so no sorting is needed on the request path. */
    static ShapeKey of(InferenceRequest request) {
      var inputs = request.model().signature().inputs();
      int size = 0;
      for (var spec : inputs) {
        Tensor t = request.inputs().get(spec.name());
        size += t == null ? 1 : Math.max(1, t.rank());
      }
      long[] dims = new long[size];
      int at = 0;
      for (var spec : inputs) {
        Tensor t = request.inputs().get(spec.name());
        if (t == null || t.rank() == 0) {
          dims[at++] = t == null ? Long.MIN_VALUE : 0; // absent optional input / scalar
          continue;
        }
        // The rank marker keeps [2,3]+[4] apart from [2]+[3,4]; dim 0 is the batch and may differ.
        dims[at++] = -t.rank();
        for (int d = 1; d < t.rank(); d++) {
          dims[at++] = t.dim(d);
        }
      }
      return new ShapeKey(dims);
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
