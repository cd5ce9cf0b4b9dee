package io.junction.server.scheduling;

import io.junction.server.concurrent.NamedThreadFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shares one device (the CPU, a GPU) among all models on it: at most {@code slots} executions run at
 * once, and when more wait, slots go round robin across the models that have work, so a model under
 * saturating load cannot starve another. Each model's own executions run in the order submitted.
 *
 * <p>Owns {@code slots} threads named {@code junction-<device>-N}; {@link #close()} runs what was
 * submitted, then stops them. {@link #runHere} lets a caller run an execution on its own thread when a slot is
 * free and nothing waits for one, sparing the hand-off; it holds its slot like any other execution.
 */
public final class DeviceScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeviceScheduler.class);

  private final String device;
  private final int slots;
  private final List<Thread> threads = new ArrayList<>();
  /** Guards the queues, the round-robin order and the counters. */
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workAvailable = lock.newCondition();
  private final Map<Object, ArrayDeque<Runnable>> queues = new HashMap<>();
  /** Owners with queued work, in the order they get their next slot. */
  private final ArrayDeque<Object> turn = new ArrayDeque<>();
  private int running;
  private int peakRunning;
  private boolean closed;

  public DeviceScheduler(String device, int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be positive, got " + slots);
    }
    this.device = device;
    this.slots = slots;
    NamedThreadFactory factory = new NamedThreadFactory("junction-" + device.replace(':', '-'), true);
    for (int i = 0; i < slots; i++) {
      Thread t = factory.newThread(this::work);
      threads.add(t);
      t.start();
    }
  }

  public String device() {
    return device;
  }

  /**
   * Runs {@code task} on this device when a slot is free and it is {@code owner}'s turn.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public void execute(Object owner, Runnable task) {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("device " + device + " is shut down");
      }
      ArrayDeque<Runnable> queue = queues.computeIfAbsent(owner, o -> new ArrayDeque<>());
      if (queue.isEmpty()) {
        turn.addLast(owner);
      }
      queue.addLast(task);
      workAvailable.signal();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code task} on the calling thread, now, if a slot is free and no execution waits for one (so that it
   * overtakes nothing); returns whether it did. Refused on this device's own threads, whose slot is their own
   * execution's, and after {@link #close()} (where {@link #execute} says why). The task holds a slot while it
   * runs, as one run by {@link #execute} does.
   */
  public boolean runHere(Runnable task) {
    if (threads.contains(Thread.currentThread())) {
      return false;
    }
    lock.lock();
    try {
      if (closed || running >= slots || !turn.isEmpty()) {
        return false;
      }
      takeSlot();
    } finally {
      lock.unlock();
    }
    try {
      task.run();
    } finally {
      releaseSlot();
    }
    return true;
  }

  /** Called with the lock held. */
  private void takeSlot() {
    running++;
    peakRunning = Math.max(peakRunning, running);
  }

  private void releaseSlot() {
    lock.lock();
    try {
      running--;
      if (!turn.isEmpty()) {
        workAvailable.signal(); // a thread of this device may wait for the slot just freed (see runHere)
      }
    } finally {
      lock.unlock();
    }
  }

  public int slots() {
    return slots;
  }

  /** Executions running now. */
  public int running() {
    lock.lock();
    try {
      return running;
    } finally {
      lock.unlock();
    }
  }

  /** The most executions that ran at once since start. */
  public int peakConcurrency() {
    lock.lock();
    try {
      return peakRunning;
    } finally {
      lock.unlock();
    }
  }

  private void work() {
    while (true) {
      Runnable task;
      lock.lock();
      try {
        // Work, and a slot for it: one may be held by a task run on its caller's thread (runHere).
        while (turn.isEmpty() ? !closed : running >= slots) {
          workAvailable.awaitUninterruptibly();
        }
        if (turn.isEmpty()) {
          return; // closed and drained
        }
        Object owner = turn.pollFirst();
        ArrayDeque<Runnable> queue = queues.get(owner);
        task = queue.pollFirst();
        if (queue.isEmpty()) {
          queues.remove(owner);
        } else {
          turn.addLast(owner); // the next execution of this owner waits for everyone else's turn
        }
        takeSlot();
      } finally {
        lock.unlock();
      }
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        log.error("an execution on {} failed outside its own error handling", device, e);
      } finally {
        releaseSlot();
      }
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      workAvailable.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread t : threads) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
