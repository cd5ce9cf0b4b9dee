package io.junction.server.scheduling;

import io.junction.server.model.FailureReason;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.model.ServedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The worker of one model version's dynamic batching: admits requests, keeps them in a
 * {@link BatchQueue} (which decides what runs when), and hands formed batches to a
 * {@link DeviceScheduler} of a device the model is placed on (a {@link Lane}), where
 * {@link BatchExecution} runs them on the model's copy there. At most a lane's instance count of this
 * model's batches run on its device at once; a batch goes to the least busy lane with room.
 *
 * <p>Two rules keep the worker thread ({@code junction-batcher-<model>-v<version>}, which this class owns)
 * off the path of a request when it has nothing to decide. When load is light, a request that finds nothing
 * waiting, nothing on its way and an instance idle goes to the device at once (unless its model
 * {@linkplain BatchPolicy#waitsWhileIdle waits for company while idle}). When load is heavy, the
 * device thread that finishes a batch of a model without dynamic batching takes the next request itself (with
 * dynamic batching, forming the next batch stays the worker's), and an arrival or an admission wakes the
 * worker only when the worker could act on it: requests wait, and an instance is free or one expires before the
 * worker would next wake by itself. While every instance is busy, nothing but an expiry is the worker's to act
 * on, and a finished batch frees an instance; while nothing waits, nothing is.
 *
 * <p>A lone request of a model whose runs are short (below {@code runHereBelowNanos}, on average over its recent
 * batches) runs on the thread that submitted it when its device has a slot free and nothing waiting
 * ({@link DeviceScheduler#runHere}): a lone call on an idle instance then wakes no thread at all, where handing it
 * to the device's thread costs a wake-up and a switch each way, more than the run itself for a small model. A
 * longer run goes to the device's thread, so that the submitting thread (gRPC's, shared by every call) is never
 * held for long.
 */
public final class DynamicBatcher implements AutoCloseable {
  /**
   * A device the model runs on: its scheduler, the execution that runs batches on the model's copy
   * there, and how many of this model's batches may run there at once.
   */
  record Lane(DeviceScheduler device, BatchExecution execution, int capacity) {
    Lane {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be positive, got " + capacity);
      }
    }
  }

  private final ServedModel model;
  private final BatchPolicy policy;
  private final List<Lane> lanes;
  private final LongSupplier clock;
  private final Thread worker;
  /** Lone requests of a model whose batches take less than this on average run where they were submitted. */
  private final long runHereBelowNanos;
  /**
   * This model's recent batches' run time, a moving average (0: none ran yet). Written by whichever thread ran one,
   * without a lock: a lost update only delays the average by one batch.
   */
  private volatile long typicalRunNanos;

  /** Guards everything below and the queue; held only to queue, decide or account, never while running a model. */
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled on arrivals, cancellations, finished batches, admissions settled and close. */
  private final Condition changed = lock.newCondition();
  private final BatchQueue queue;
  /** Admitted requests still being decoded on their way here. */
  private int incoming;
  /** Batches of this model handed to each lane's device and not finished. */
  private final int[] busy;
  private boolean closed;
  /**
   * When the worker, waiting, wakes by itself next ({@link Long#MAX_VALUE}: only when signalled); set before
   * each wait, read by arrivals to tell whether they must wake it.
   */
  private long workerWakesAt = Long.MAX_VALUE;

  DynamicBatcher(ServedModel model, BatchPolicy policy, DeviceScheduler device, BatchExecution execution) {
    this(model, policy, device, execution, System::nanoTime);
  }

  /**
   * Every batch on the device's thread, none where it was submitted.
   *
   * @param clock {@link System#nanoTime()}, or a test's clock
   */
  DynamicBatcher(ServedModel model, BatchPolicy policy, DeviceScheduler device, BatchExecution execution,
      LongSupplier clock) {
    this(model, policy, List.of(new Lane(device, execution, policy.instances())), clock, 0);
  }

  /**
   * @param lanes the devices the model runs on, with its instance count on each
   * @param runHereBelowNanos a lone request runs on the thread that submitted it while this model's batches take
   *     less than this on average; 0: never
   */
  DynamicBatcher(ServedModel model, BatchPolicy policy, List<Lane> lanes, LongSupplier clock, long runHereBelowNanos) {
    if (lanes.isEmpty()) {
      throw new IllegalArgumentException(model.label() + " needs a device to run on");
    }
    this.model = model;
    this.policy = policy;
    this.lanes = List.copyOf(lanes);
    this.busy = new int[lanes.size()];
    this.clock = clock;
    this.runHereBelowNanos = runHereBelowNanos;
    this.queue = new BatchQueue(policy, model.label());
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
          incoming--; // matters to the worker only when requests wait and it could dispatch them
          wakeWorkerIfItCouldAct();
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
    PendingRequest pending = new PendingRequest(request, level, clock.getAsLong(), timeout);
    boolean alone;
    int lane;
    lock.lock();
    try {
      if (closed) {
        throw new ModelUnavailableException(model.label() + " is shutting down");
      }
      // Nothing waits, nothing is on its way and an instance is idle: unless the model waits for company while idle,
      // this request goes to the device now, without a hop through the worker thread.
      lane = freeLane();
      alone = queue.waiting() == 0 && incoming == 0 && lane >= 0 && !policy.waitsWhileIdle(pending.rows());
      if (alone) {
        busy[lane]++;
      } else {
        queue.add(pending);
        wakeWorkerIfItCouldAct();
      }
    } finally {
      lock.unlock();
    }
    // A caller that goes away takes its request out of the queue at once; cancelled, waiting or running,
    // it counts as one failure (and the execution, if it ran, does not count it again).
    pending.future.whenComplete((r, e) -> {
      if (pending.future.isCancelled()) {
        if (remove(pending)) {
          pending.inputsDone(); // out of the queue: no batch will read it (one that took it releases it itself)
        }
        if (pending.claimOutcome()) {
          model.stats().recordFailure(System.nanoTime() - request.arrivalNanos(), FailureReason.CANCELED);
        }
      }
    });
    if (alone && !(request.callerMayRun() && runHere(lane, pending))) {
      dispatch(lane, List.of(pending));
    }
    return pending.future;
  }

  /**
   * The request's priority level; the model's default for 0 and for a level the model does not have, as Triton
   * does: a client that marks its traffic for every model, or a route whose versions have different
   * {@code priority_levels}, then gets served rather than refused.
   */
  private int level(InferenceRequest request) {
    int priority = request.priority();
    return priority == 0 || priority > policy.priorityLevels() ? policy.defaultPriorityLevel() : priority;
  }

  /** Takes a request out of the queue; false when it was not there (taken for a batch, or never queued). */
  private boolean remove(PendingRequest pending) {
    lock.lock();
    try {
      if (queue.remove(pending)) {
        changed.signal();
        return true;
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    List<BatchQueue.Expired> expired = new ArrayList<>();
    while (true) {
      List<PendingRequest> batch = null;
      int lane = -1;
      lock.lock();
      try {
        while (true) {
          long now = clock.getAsLong();
          queue.expire(now, expired);
          if (!expired.isEmpty()) {
            break; // answer them outside the lock, then come back
          }
          if (closed && queue.waiting() == 0) {
            return;
          }
          lane = freeLane();
          BatchQueue.Decision decision = queue.next(now, lane >= 0, incoming, closed);
          if (decision.dispatch()) {
            busy[lane]++;
            batch = decision.batch();
            break;
          }
          long wait = decision.waitNanos();
          workerWakesAt = wait == Long.MAX_VALUE || now + wait < now ? Long.MAX_VALUE : now + wait;
          await(wait);
        }
      } finally {
        lock.unlock();
      }
      for (BatchQueue.Expired e : expired) {
        lanes.get(0).execution().fail(e.request(), e.reason());
      }
      expired.clear();
      if (batch != null) {
        dispatch(lane, batch);
      }
    }
  }

  /** The lane with room whose device this model keeps least busy, or -1; called with the lock held. */
  private int freeLane() {
    int best = -1;
    for (int i = 0; i < busy.length; i++) {
      int capacity = lanes.get(i).capacity();
      if (busy[i] < capacity && (best < 0
          || (long) busy[i] * lanes.get(best).capacity() < (long) busy[best] * capacity)) {
        best = i;
      }
    }
    return best;
  }

  /** Runs a lone request on this thread if its model's runs are short and its device has a slot; false if not. */
  private boolean runHere(int lane, PendingRequest pending) {
    long typical = typicalRunNanos;
    if (typical == 0 || typical >= runHereBelowNanos) {
      return false; // never ran yet (its time unknown), or too long to hold the submitting thread
    }
    return lanes.get(lane).device().runHere(() -> run(lane, List.of(pending)));
  }

  private void dispatch(int lane, List<PendingRequest> batch) {
    Lane on = lanes.get(lane);
    try {
      on.device().execute(this, () -> run(lane, batch));
    } catch (IllegalStateException e) {
      finished(lane, false);
      batch.forEach(p -> on.execution().fail(p, new ModelUnavailableException(model.label() + " is shutting down")));
    }
  }

  private void run(int lane, List<PendingRequest> batch) {
    long start = System.nanoTime();
    try {
      lanes.get(lane).execution().run(batch);
    } finally {
      long took = System.nanoTime() - start;
      long typical = typicalRunNanos;
      typicalRunNanos = Math.max(1, typical == 0 ? took : typical + (took - typical) / 8);
      finished(lane, true);
    }
  }

  /**
   * A batch on {@code lane} is done. With {@code takeNext} (on the thread that ran it), a model without
   * dynamic batching has its next request, if one waits, dispatched from here rather than by waking the worker:
   * under load that saves the worker a wake-up for every request. Expiries, forming batches and closing stay
   * the worker's.
   */
  private void finished(int lane, boolean takeNext) {
    List<PendingRequest> next = null;
    int nextLane = -1;
    lock.lock();
    try {
      busy[lane]--;
      // Only for a model without dynamic batching. One with it leaves the next batch to the worker, which forms it
      // a moment later, when the answers just sent have brought their callers' next requests: decided here, at
      // once, batches of the big MLP under load shrank from ~24 to ~15 rows and a fifth of its throughput went.
      boolean mayTakeNext = takeNext && !closed && queue.waiting() > 0 && !policy.dynamicBatching();
      long now = mayTakeNext ? clock.getAsLong() : 0; // no clock read when there is nothing to take
      if (mayTakeNext && now - queue.nextExpiry() < 0) {
        nextLane = freeLane();
        BatchQueue.Decision decision = queue.next(now, true, incoming, false);
        if (decision.dispatch()) {
          busy[nextLane]++;
          next = decision.batch();
        }
      }
      // With nothing waiting, a free instance gives the worker nothing to do: a lone call wakes no one.
      if (closed || (queue.waiting() > 0 && (next == null || freeLane() >= 0))) {
        changed.signal();
      }
    } finally {
      lock.unlock();
    }
    if (next != null) {
      dispatch(nextLane, next);
    }
  }

  /**
   * Wakes the worker if it could act on what changed: there is something waiting, and an instance is free (and a
   * batch could go) or it expires before the worker would wake by itself. Called with the lock held, after a change.
   */
  private void wakeWorkerIfItCouldAct() {
    if (closed || (queue.waiting() > 0
        && ((freeLane() >= 0 && batchCouldGo()) || queue.nextExpiry() < workerWakesAt))) {
      changed.signal();
    }
  }

  /**
   * With an instance free, whether the worker could send a batch: always, unless the model holds batches while
   * idle; then once the rows waiting could fill one, or once a held batch's delay ends before the worker would wake
   * by itself (it has not set its timer for it yet). Spares the worker a wake-up for every arrival while a batch fills.
   */
  private boolean batchCouldGo() {
    return !policy.holdsBatches() || queue.waitingRows() >= policy.smallestFullRows()
        || queue.heldUntil() < workerWakesAt;
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

  public BatchPolicy policy() {
    return policy;
  }

  /** Requests waiting now (for tests and metrics). */
  public int waiting() {
    lock.lock();
    try {
      return queue.waiting();
    } finally {
      lock.unlock();
    }
  }

  /** Batches of this model handed to its devices (or running where they were submitted) and not finished. */
  int running() {
    lock.lock();
    try {
      int n = 0;
      for (int b : busy) {
        n += b;
      }
      return n;
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
}
