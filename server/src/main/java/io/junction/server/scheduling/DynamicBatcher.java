package io.junction.server.scheduling;

import io.junction.server.errors.InvalidInputException;
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
 * {@link BatchQueue} (which decides what runs when), and hands formed batches to the model's
 * {@link DeviceScheduler}, where {@link BatchExecution} runs them. At most {@code instances} batches of
 * this model run at once.
 *
 * <p>One more rule keeps latency low when load is light: a request that finds nothing waiting, nothing
 * on its way and an instance idle goes to the device at once, without a hop through the worker thread
 * ({@code junction-batcher-<model>-v<version>}, which this class owns).
 */
public final class DynamicBatcher implements AutoCloseable {
  private final ServedModel model;
  private final BatchPolicy policy;
  private final DeviceScheduler device;
  private final BatchExecution execution;
  private final LongSupplier clock;
  private final Thread worker;

  /** Guards everything below and the queue; held only to queue, decide or account, never while running a model. */
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled on arrivals, cancellations, finished batches, admissions settled and close. */
  private final Condition changed = lock.newCondition();
  private final BatchQueue queue;
  /** Admitted requests still being decoded on their way here. */
  private int incoming;
  /** Batches of this model handed to the device and not finished. */
  private int busy;
  private boolean closed;

  DynamicBatcher(ServedModel model, BatchPolicy policy, DeviceScheduler device, BatchExecution execution) {
    this(model, policy, device, execution, System::nanoTime);
  }

  /** @param clock {@link System#nanoTime()}, or a test's clock */
  DynamicBatcher(ServedModel model, BatchPolicy policy, DeviceScheduler device, BatchExecution execution,
      LongSupplier clock) {
    this.model = model;
    this.policy = policy;
    this.device = device;
    this.clock = clock;
    this.execution = execution;
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
    PendingRequest pending = new PendingRequest(request, level, clock.getAsLong(), timeout);
    boolean alone;
    lock.lock();
    try {
      if (closed) {
        throw new ModelUnavailableException(model.label() + " is shutting down");
      }
      // Nothing waits, nothing is on its way and an instance is idle: no batch can form, so this
      // request goes to the device now, without a hop through the worker thread.
      alone = queue.waiting() == 0 && incoming == 0 && busy < policy.instances();
      if (alone) {
        busy++;
      } else {
        queue.add(pending);
        changed.signal();
      }
    } finally {
      lock.unlock();
    }
    // A caller that goes away takes its request out of the queue at once; cancelled, waiting or running,
    // it counts as one failure (and the execution, if it ran, does not count it again).
    pending.future.whenComplete((r, e) -> {
      if (pending.future.isCancelled()) {
        remove(pending);
        if (pending.claimOutcome()) {
          model.stats().recordFailure(System.nanoTime() - request.arrivalNanos());
        }
      }
    });
    if (alone) {
      dispatch(List.of(pending));
    }
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
      if (queue.remove(pending)) {
        changed.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    List<BatchQueue.Expired> expired = new ArrayList<>();
    while (true) {
      List<PendingRequest> batch = null;
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
          BatchQueue.Decision decision = queue.next(now, busy < policy.instances(), incoming, closed);
          if (decision.dispatch()) {
            busy++;
            batch = decision.batch();
            break;
          }
          await(decision.waitNanos());
        }
      } finally {
        lock.unlock();
      }
      for (BatchQueue.Expired e : expired) {
        execution.fail(e.request(), e.reason());
      }
      expired.clear();
      if (batch != null) {
        dispatch(batch);
      }
    }
  }

  private void dispatch(List<PendingRequest> batch) {
    try {
      device.execute(this, () -> {
        try {
          execution.run(batch);
        } finally {
          finished();
        }
      });
    } catch (IllegalStateException e) {
      finished();
      batch.forEach(p -> execution.fail(p, new ModelUnavailableException(model.label() + " is shutting down")));
    }
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
  public BatchPolicy policy() {
    return policy;
  }

  public int waiting() {
    lock.lock();
    try {
      return queue.waiting();
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
