package io.junction.server.scheduling;

import io.junction.server.errors.JunctionException;
import io.junction.server.errors.QueueFullException;
import io.junction.server.errors.QueueTimeoutException;
import io.junction.server.errors.RequestTimeoutException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The waiting requests of one model version and the decisions about them, with Triton's dynamic
 * batching semantics: which batch goes next, whether it goes now or how long to wait for a fuller one,
 * and which requests passed their deadline or queue timeout. Time is always passed in, never read, so
 * every decision is a function of the queue's contents and the arguments.
 *
 * <p>Not thread-safe: its owner ({@link DynamicBatcher}) calls it under its lock.
 */
final class BatchQueue {
  /** What to do next: run {@code batch} now, or wait {@code waitNanos} ({@link Long#MAX_VALUE}: until woken). */
  record Decision(List<PendingRequest> batch, long waitNanos) {
    static final Decision IDLE = new Decision(List.of(), Long.MAX_VALUE);

    boolean dispatch() {
      return !batch.isEmpty();
    }
  }

  /** A request taken out of the queue without running, and why. */
  record Expired(PendingRequest request, JunctionException reason) {}

  private final BatchPolicy policy;
  private final String label;
  /** One FIFO per priority level; index 0 is level 1. */
  private final ArrayDeque<PendingRequest>[] queues;
  /** Requests whose queue timeout passed under the DELAY policy; run only when the queues are empty. */
  private final ArrayDeque<PendingRequest> delayed = new ArrayDeque<>();
  private int waiting;
  /** Rows of all waiting requests, of every shape. */
  private long waitingRows;
  /** The earliest deadline or queue timeout among waiting requests. */
  private long nextExpiry = Long.MAX_VALUE;

  /** @param label the model version, for messages */
  @SuppressWarnings("unchecked")
  BatchQueue(BatchPolicy policy, String label) {
    this.policy = policy;
    this.label = label;
    this.queues = new ArrayDeque[policy.priorityLevels()];
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new ArrayDeque<>();
    }
  }

  int waiting() {
    return waiting;
  }

  long waitingRows() {
    return waitingRows;
  }

  /**
   * When the queue delay of the oldest request of some level ends, by which time a held batch goes whatever its size
   * ({@link Long#MAX_VALUE}: nothing waits).
   */
  long heldUntil() {
    long until = Long.MAX_VALUE;
    for (int q = 0; q <= queues.length; q++) {
      PendingRequest head = (q < queues.length ? queues[q] : delayed).peekFirst();
      if (head != null) {
        until = Math.min(until, head.enqueuedNanos + policy.maxQueueDelayNanos());
      }
    }
    return until;
  }

  /**
   * Queues a request at its level.
   *
   * @throws QueueFullException when its level holds {@code max_queue_size} requests; the caller keeps it
   */
  void add(PendingRequest pending) {
    int level = pending.level;
    ArrayDeque<PendingRequest> queue = queues[level - 1];
    int max = policy.queuePolicy(level).maxQueueSize();
    if (queue.size() >= max) {
      throw new QueueFullException(label + ": the queue of priority level " + level + " is full (" + max
          + " requests waiting); retry later");
    }
    queue.addLast(pending);
    waiting++;
    waitingRows += pending.rows();
    nextExpiry = Math.min(nextExpiry, pending.nextEvent());
  }

  /** Takes a request out (its caller went away); false when it was no longer waiting. */
  boolean remove(PendingRequest pending) {
    ArrayDeque<PendingRequest> queue = pending.delayed ? delayed : queues[pending.level - 1];
    if (queue.remove(pending)) {
      waiting--;
      waitingRows -= pending.rows();
      return true;
    }
    return false;
  }

  /** The earliest deadline or queue timeout among waiting requests ({@link Long#MAX_VALUE}: none). */
  long nextExpiry() {
    return nextExpiry;
  }

  /**
   * Moves requests whose queue timeout passed under DELAY to the delayed queue, and takes out those past
   * their deadline or their REJECT queue timeout, into {@code expired}.
   */
  void expire(long now, List<Expired> expired) {
    if (now - nextExpiry < 0) {
      return;
    }
    long next = Long.MAX_VALUE;
    for (int q = 0; q <= queues.length; q++) {
      ArrayDeque<PendingRequest> queue = q < queues.length ? queues[q] : delayed;
      var it = queue.iterator();
      while (it.hasNext()) {
        PendingRequest p = it.next();
        if (p.request.expiredAt(now)) {
          it.remove();
          waiting--;
          waitingRows -= p.rows();
          expired.add(new Expired(p, new RequestTimeoutException(label + ": request " + p.id() + " passed its deadline after "
              + micros(now - p.request.arrivalNanos()) + " µs waiting in the queue; it did not run")));
        } else if (!p.delayed && now - p.queueTimeoutAt >= 0) {
          it.remove();
          if (policy.queuePolicy(p.level).action() == QueuePolicy.TimeoutAction.DELAY) {
            p.delayed = true;
            delayed.addLast(p);
            next = Math.min(next, p.nextEvent());
          } else {
            waiting--;
            waitingRows -= p.rows();
            expired.add(new Expired(p, new QueueTimeoutException(label + ": request " + p.id() + " waited "
                + micros(now - p.enqueuedNanos) + " µs in the queue, past its queue timeout; it did not run")));
          }
        } else {
          next = Math.min(next, p.nextEvent());
        }
      }
    }
    nextExpiry = next;
  }

  /**
   * What to do now, after {@link #expire}: run a batch (taken out of the queue) or wait.
   *
   * @param idle whether an instance of the model is free to run a batch
   * @param incoming admitted requests still on their way here: when none are and an instance is idle, the batch
   *     goes at once, unless the policy {@linkplain BatchPolicy#waitsWhileIdle waits while idle}
   * @param draining the batcher is closing: whatever waits goes now
   */
  Decision next(long now, boolean idle, int incoming, boolean draining) {
    long untilExpiry = nextExpiry == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, nextExpiry - now);
    if (waiting == 0 || !idle) {
      return untilExpiry == Long.MAX_VALUE ? Decision.IDLE : new Decision(List.of(), untilExpiry);
    }
    List<PendingRequest> candidate = new ArrayList<>();
    long rows = form(candidate);
    long wait = draining ? 0 : waitNanos(candidate, rows, now, incoming);
    if (wait == 0) {
      take(candidate);
      return new Decision(candidate, 0);
    }
    return new Decision(List.of(), Math.min(wait, untilExpiry));
  }

  /** How long to wait before dispatching the candidate batch: 0 for now. */
  private long waitNanos(List<PendingRequest> candidate, long rows, long now, int incoming) {
    if (!policy.dynamicBatching() || policy.isFull(rows)) {
      return 0;
    }
    long waited = now - candidate.get(0).enqueuedNanos;
    if (waited >= policy.maxQueueDelayNanos()) {
      return 0;
    }
    if (incoming == 0 && !policy.waitsWhileIdle(rows)) {
      return 0; // nothing more is on its way: waiting would only add latency, unless the model asked for it
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
      waitingRows -= p.rows();
    }
  }

  private static long micros(long nanos) {
    return nanos / 1000;
  }
}
