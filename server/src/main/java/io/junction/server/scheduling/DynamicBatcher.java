package io.junction.server.scheduling;

import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.errors.JunctionException;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.QueueTimeoutException;
import io.junction.server.errors.RequestCancelledException;
import io.junction.server.errors.RequestTimeoutException;
import io.junction.server.model.ModelStats;
import io.junction.server.model.ServedModel;
import io.junction.server.telemetry.SpanNames;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Queues the requests of one model version and merges them into batches, with Triton's dynamic
 * batching semantics: a batch goes when it reaches a preferred size or the max, or when its oldest
 * request has waited {@code max_queue_delay}; only requests whose non-batch dimensions agree share a
 * batch; higher priority levels go first; full queues reject at once; requests past their deadline or
 * queue timeout, or cancelled, never run.
 *
 * <p>One more rule keeps latency low when load is light: when an instance is idle and no admitted
 * request is still on its way to the queue, waiting cannot grow a better batch from what has arrived,
 * so the batch goes at once instead of waiting for the timer.
 *
 * <p>A worker thread ({@code junction-batcher-<model>-v<version>}) forms batches and hands them to the
 * model's {@link DeviceScheduler}; at most {@code instances} batches of this model run at once.
 */
public final class DynamicBatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DynamicBatcher.class);

  private final ServedModel model;
  private final BatchPolicy policy;
  private final DeviceScheduler device;
  private final BatchRunner runner;
  private final Tracer tracer;
  private final Thread worker;

  /** Guards everything below; held only to queue, form or account, never while running a model. */
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled on arrivals, cancellations, finished batches, admissions settled and close. */
  private final Condition changed = lock.newCondition();
  /** One FIFO per priority level; index 0 is level 1. */
  private final ArrayDeque<PendingRequest>[] queues;
  /** Requests whose queue timeout passed under the DELAY policy; run only when the queues are empty. */
  private final ArrayDeque<PendingRequest> delayed = new ArrayDeque<>();
  private int waiting;
  /** Admitted requests still being decoded on their way here. */
  private int incoming;
  /** Batches of this model handed to the device and not finished. */
  private int busy;
  /** The earliest deadline or queue timeout among waiting requests. */
  private long nextExpiry = Long.MAX_VALUE;
  private boolean closed;

  @SuppressWarnings("unchecked")
  public DynamicBatcher(ServedModel model, BatchPolicy policy, DeviceScheduler device, BatchRunner runner,
      Tracer tracer) {
    this.tracer = tracer;
    this.model = model;
    this.policy = policy;
    this.device = device;
    this.runner = runner;
    this.queues = new ArrayDeque[policy.priorityLevels()];
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new ArrayDeque<>();
    }
    this.worker = new Thread(this::loop, "junction-batcher-" + model.name() + "-v" + model.version());
    worker.setDaemon(true);
    worker.start();
  }

  public ServedModel model() {
    return model;
  }

  /** Counts a request on its way; see {@link InferenceScheduler#admit}. */
  InferenceScheduler.Ticket admit() {
    lock.lock();
    try {
      incoming++;
    } finally {
      lock.unlock();
    }
    return new InferenceScheduler.Ticket() {
      private boolean used;

      @Override
      public CompletableFuture<InferenceResult> submit(InferenceRequest request) {
        settle();
        return enqueue(request);
      }

      @Override
      public void abandon() {
        settle();
      }

      private void settle() {
        if (used) {
          throw new IllegalStateException("ticket already used");
        }
        used = true;
        lock.lock();
        try {
          incoming--;
          changed.signal();
        } finally {
          lock.unlock();
        }
      }
    };
  }

  private CompletableFuture<InferenceResult> enqueue(InferenceRequest request) {
    int level = level(request);
    QueuePolicy queuePolicy = policy.queuePolicy(level);
    long timeout = request.queueTimeoutNanos() > 0 && queuePolicy.allowTimeoutOverride()
        ? request.queueTimeoutNanos() : queuePolicy.defaultTimeoutNanos();
    PendingRequest pending = new PendingRequest(request, level, System.nanoTime(), timeout);
    boolean alone;
    lock.lock();
    try {
      if (closed) {
        throw new ModelUnavailableException(model.label() + " is shutting down");
      }
      // Nothing waits, nothing is on its way and an instance is idle: no batch can form, so this
      // request goes to the device now, without a hop through the worker thread.
      alone = waiting == 0 && incoming == 0 && busy < policy.instances();
      if (alone) {
        busy++;
      }
    } finally {
      lock.unlock();
    }
    if (alone) {
      dispatch(List.of(pending));
      return pending.future;
    }
    lock.lock();
    try {
      if (closed) {
        throw new ModelUnavailableException(model.label() + " is shutting down");
      }
      ArrayDeque<PendingRequest> queue = queues[level - 1];
      if (queue.size() >= queuePolicy.maxQueueSize()) {
        throw new QueueFullException(model.label() + ": the queue of priority level " + level + " is full ("
            + queuePolicy.maxQueueSize() + " requests waiting); retry later");
      }
      queue.addLast(pending);
      waiting++;
      nextExpiry = Math.min(nextExpiry, pending.nextEvent());
      changed.signal();
    } finally {
      lock.unlock();
    }
    // A caller that goes away takes its request out of the queue at once.
    pending.future.whenComplete((r, e) -> {
      if (pending.future.isCancelled()) {
        remove(pending);
        model.stats().recordFailure(System.nanoTime() - request.arrivalNanos());
      }
    });
    return pending.future;
  }

  private int level(InferenceRequest request) {
    if (request.priority() == 0) {
      return policy.defaultPriorityLevel();
    }
    if (request.priority() > policy.priorityLevels()) {
      throw new InvalidInputException(model.label() + ": priority " + request.priority()
          + " is not a level of this model (1.." + policy.priorityLevels() + ", 1 is highest)");
    }
    return request.priority();
  }

  private void remove(PendingRequest pending) {
    lock.lock();
    try {
      ArrayDeque<PendingRequest> queue = pending.delayed ? delayed : queues[pending.level - 1];
      if (queue.remove(pending)) {
        waiting--;
        changed.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    List<PendingRequest> expired = new ArrayList<>();
    List<JunctionException> reasons = new ArrayList<>();
    while (true) {
      List<PendingRequest> batch = null;
      lock.lock();
      try {
        while (true) {
          long now = System.nanoTime();
          if (now - nextExpiry >= 0) {
            sweep(now, expired, reasons);
            if (!expired.isEmpty()) {
              break; // answer them outside the lock, then come back
            }
          }
          if (closed && waiting == 0) {
            return;
          }
          if (waiting == 0 || busy >= policy.instances()) {
            await(nextExpiry == Long.MAX_VALUE ? Long.MAX_VALUE : nextExpiry - now);
            continue;
          }
          List<PendingRequest> candidate = new ArrayList<>();
          long rows = form(candidate);
          long wait = closed ? 0 : waitNanos(candidate, rows, now);
          if (wait == 0) {
            take(candidate);
            busy++;
            batch = candidate;
            break;
          }
          await(Math.min(wait, nextExpiry == Long.MAX_VALUE ? Long.MAX_VALUE : nextExpiry - now));
        }
      } finally {
        lock.unlock();
      }
      for (int i = 0; i < expired.size(); i++) {
        fail(expired.get(i), reasons.get(i));
      }
      expired.clear();
      reasons.clear();
      if (batch != null) {
        dispatch(batch);
      }
    }
  }

  /**
   * How long to wait before dispatching the candidate batch: 0 for now. Pure, apart from reading the
   * counters the caller holds the lock for.
   */
  private long waitNanos(List<PendingRequest> candidate, long rows, long now) {
    if (!policy.dynamicBatching() || policy.isFull(rows)) {
      return 0;
    }
    long waited = now - candidate.get(0).enqueuedNanos;
    if (waited >= policy.maxQueueDelayNanos()) {
      return 0;
    }
    if (incoming == 0) {
      return 0; // nothing more is on its way: waiting would only add latency
    }
    return policy.maxQueueDelayNanos() - waited;
  }

  /**
   * The batch to run next: the oldest request of the highest non-empty priority level (delayed requests
   * last), joined by waiting requests of the same shape in priority, then arrival order, up to the max
   * rows, cut back to the largest preferred size it passed.
   */
  private long form(List<PendingRequest> batch) {
    PendingRequest head = null;
    for (ArrayDeque<PendingRequest> queue : queues) {
      if (!queue.isEmpty()) {
        head = queue.peekFirst();
        break;
      }
    }
    if (head == null) {
      head = delayed.peekFirst();
    }
    batch.add(head);
    long rows = head.rows();
    int preferredPrefix = policy.isFull(rows) ? 1 : 0;
    long max = policy.maxRows();
    if (policy.dynamicBatching() && rows < max) {
      outer:
      for (int q = 0; q <= queues.length; q++) {
        ArrayDeque<PendingRequest> queue = q < queues.length ? queues[q] : delayed;
        for (PendingRequest p : queue) {
          if (p == head || !p.shape.equals(head.shape) || rows + p.rows() > max) {
            continue;
          }
          batch.add(p);
          rows += p.rows();
          if (policy.isFull(rows)) {
            preferredPrefix = batch.size();
          }
          if (rows == max) {
            break outer;
          }
        }
      }
    }
    if (preferredPrefix > 0 && preferredPrefix < batch.size()) {
      for (int i = batch.size() - 1; i >= preferredPrefix; i--) {
        rows -= batch.remove(i).rows();
      }
    }
    return rows;
  }

  private void take(List<PendingRequest> batch) {
    for (PendingRequest p : batch) {
      (p.delayed ? delayed : queues[p.level - 1]).remove(p);
      waiting--;
    }
  }

  /** Moves or removes requests whose deadline or queue timeout passed; recomputes the next expiry. */
  private void sweep(long now, List<PendingRequest> expired, List<JunctionException> reasons) {
    long next = Long.MAX_VALUE;
    for (int q = 0; q <= queues.length; q++) {
      ArrayDeque<PendingRequest> queue = q < queues.length ? queues[q] : delayed;
      var it = queue.iterator();
      while (it.hasNext()) {
        PendingRequest p = it.next();
        if (p.request.expiredAt(now)) {
          it.remove();
          waiting--;
          expired.add(p);
          reasons.add(new RequestTimeoutException(model.label() + ": request " + id(p) + " passed its deadline after "
              + micros(now - p.request.arrivalNanos()) + " µs waiting in the queue; it did not run"));
        } else if (!p.delayed && now - p.queueTimeoutAt >= 0) {
          it.remove();
          if (policy.queuePolicy(p.level).action() == QueuePolicy.TimeoutAction.DELAY) {
            p.delayed = true;
            delayed.addLast(p);
            next = Math.min(next, p.nextEvent());
          } else {
            waiting--;
            expired.add(p);
            reasons.add(new QueueTimeoutException(model.label() + ": request " + id(p) + " waited "
                + micros(now - p.enqueuedNanos) + " µs in the queue, past its queue timeout; it did not run"));
          }
        } else {
          next = Math.min(next, p.nextEvent());
        }
      }
    }
    nextExpiry = next;
  }

  private void dispatch(List<PendingRequest> batch) {
    try {
      device.execute(this, () -> execute(batch));
    } catch (IllegalStateException e) {
      finished();
      batch.forEach(p -> fail(p, new ModelUnavailableException(model.label() + " is shutting down")));
    }
  }

  /** Runs on a device thread. */
  private void execute(List<PendingRequest> batch) {
    long start = System.nanoTime();
    ModelStats stats = model.stats();
    try {
      List<PendingRequest> live = new ArrayList<>(batch.size());
      for (PendingRequest p : batch) {
        if (p.future.isDone()) {
          continue; // cancelled between forming and running
        }
        if (p.request.cancelled().getAsBoolean()) {
          fail(p, new RequestCancelledException(model.label() + ": request " + id(p) + " was cancelled before it ran"));
        } else if (p.request.expiredAt(start)) {
          fail(p, new RequestTimeoutException(model.label() + ": request " + id(p)
              + " passed its deadline while waiting for the device; it did not run"));
        } else {
          live.add(p);
        }
      }
      if (live.isEmpty()) {
        return;
      }
      Span batchSpan = startBatchSpan(live);
      BatchRunner.Outcome outcome;
      try {
        outcome = runner.run(model, live.stream().map(p -> p.request).toList());
      } catch (JunctionException e) {
        endBatchSpan(batchSpan, e);
        live.forEach(p -> fail(p, e));
        return;
      } catch (RuntimeException | Error e) {
        log.error("{}: a batch of {} requests failed in the backend (traces {})", model.label(), live.size(),
            traceIds(live), e);
        InferenceFailedException failure = new InferenceFailedException(model.label() + ": inference failed: " + e, e);
        endBatchSpan(batchSpan, e);
        live.forEach(p -> fail(p, failure));
        return;
      }
      long end = System.nanoTime();
      var t = outcome.timings();
      stats.recordExecution(outcome.rows(), t.inputNanos(), t.inferNanos(), t.outputNanos());
      if (batchSpan.isRecording()) {
        batchSpan.setAttribute(SpanNames.BATCH_SIZE, outcome.rows());
        batchSpan.setAttribute(SpanNames.COMPUTE_INPUT_US, t.inputNanos() / 1000);
        batchSpan.setAttribute(SpanNames.COMPUTE_INFER_US, t.inferNanos() / 1000);
        batchSpan.setAttribute(SpanNames.COMPUTE_OUTPUT_US, t.outputNanos() / 1000);
      }
      endBatchSpan(batchSpan, null);
      for (int i = 0; i < live.size(); i++) {
        PendingRequest p = live.get(i);
        InferenceRequest r = p.request;
        recordOnRequestSpan(r, batchSpan, start, outcome.rows(), t);
        stats.recordSuccess(r.batchSize(), end - r.arrivalNanos(), start - r.arrivalNanos(), t.inputNanos(),
            t.inferNanos(), t.outputNanos());
        p.future.complete(new InferenceResult(r.id(), model.name(), model.version(), outcome.outputs().get(i)));
      }
    } finally {
      finished();
    }
  }

  /**
   * The batch's own span, linked to every request span it serves. It joins the trace of the first
   * sampled request so that it is sampled whenever one of its requests is.
   */
  private Span startBatchSpan(List<PendingRequest> live) {
    SpanBuilder builder = tracer.spanBuilder(SpanNames.BATCH).setSpanKind(SpanKind.INTERNAL).setNoParent();
    SpanContext parent = null;
    for (PendingRequest p : live) {
      SpanContext ctx = p.request.span().getSpanContext();
      if (ctx.isValid()) {
        builder.addLink(ctx);
        if (parent == null && ctx.isSampled()) {
          parent = ctx;
        }
      }
    }
    if (parent != null) {
      builder.setParent(Context.root().with(Span.wrap(parent)));
    }
    return builder
        .setAttribute(SpanNames.MODEL_NAME, model.name())
        .setAttribute(SpanNames.MODEL_VERSION, Long.toString(model.version()))
        .setAttribute(SpanNames.BACKEND, model.config().getBackend())
        .setAttribute(SpanNames.DEVICE, device.device())
        .setAttribute(SpanNames.BATCH_REQUESTS, (long) live.size())
        .startSpan();
  }

  private static void endBatchSpan(Span span, Throwable failure) {
    if (failure != null) {
      span.setStatus(StatusCode.ERROR, failure.getMessage() == null ? failure.toString() : failure.getMessage());
      span.recordException(failure);
    }
    span.end();
  }

  private static void recordOnRequestSpan(InferenceRequest r, Span batch, long start, long rows,
      io.junction.server.backend.ExecutionTimings t) {
    Span span = r.span();
    if (!span.isRecording()) {
      return;
    }
    span.setAttribute(SpanNames.QUEUE_US, (start - r.arrivalNanos()) / 1000);
    span.setAttribute(SpanNames.BATCH_SIZE, rows);
    span.setAttribute(SpanNames.COMPUTE_INFER_US, t.inferNanos() / 1000);
    span.setAttribute(SpanNames.COMPUTE_INPUT_US, t.inputNanos() / 1000);
    span.setAttribute(SpanNames.COMPUTE_OUTPUT_US, t.outputNanos() / 1000);
    if (batch.getSpanContext().isValid()) {
      span.setAttribute(SpanNames.BATCH_TRACE_ID, batch.getSpanContext().getTraceId());
      span.setAttribute(SpanNames.BATCH_SPAN_ID, batch.getSpanContext().getSpanId());
      span.addLink(batch.getSpanContext());
    }
  }

  private static String traceIds(List<PendingRequest> requests) {
    StringBuilder sb = new StringBuilder();
    for (PendingRequest p : requests) {
      SpanContext ctx = p.request.span().getSpanContext();
      if (ctx.isValid()) {
        sb.append(sb.length() == 0 ? "" : ",").append(ctx.getTraceId());
      }
    }
    return sb.length() == 0 ? "none" : sb.toString();
  }

  private void finished() {
    lock.lock();
    try {
      busy--;
      changed.signal();
    } finally {
      lock.unlock();
    }
  }

  private void fail(PendingRequest p, JunctionException e) {
    if (p.future.completeExceptionally(e)) {
      model.stats().recordFailure(System.nanoTime() - p.request.arrivalNanos());
    }
  }

  private void await(long nanos) {
    try {
      if (nanos == Long.MAX_VALUE) {
        changed.await();
      } else if (nanos > 0) {
        changed.awaitNanos(nanos);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true; // an interrupted batcher drains and stops
    }
  }

  /** Requests waiting now (for tests and metrics). */
  public int waiting() {
    lock.lock();
    try {
      return waiting;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops taking requests; those already waiting are still dispatched. Returns at once (it may be
   * called from a thread that completes this batcher's requests); see {@link #awaitTermination}.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until the worker has dispatched everything that was waiting and stopped. */
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    worker.join(Math.max(1, unit.toMillis(timeout)));
    return !worker.isAlive();
  }

  private static String id(PendingRequest p) {
    return p.request.id().isEmpty() ? "(no id)" : "'" + p.request.id() + "'";
  }

  private static long micros(long nanos) {
    return nanos / 1000;
  }
}
