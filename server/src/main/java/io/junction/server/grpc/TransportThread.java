package io.junction.server.grpc;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A thread of the gRPC endpoint's event loops ({@code junction-grpc-io-N}), marked as such so that a call can tell
 * whether it runs on one: a lone request of a short model may run its model on the event loop that read it
 * ({@link UnaryInferHandler}), and on none of the other threads where gRPC's callbacks arrive.
 */
final class TransportThread extends Thread {
  private TransportThread(Runnable task, String name) {
    super(task, name);
    setDaemon(true);
  }

  /** Whether the calling thread is an event loop's. */
  static boolean isCurrent() {
    return Thread.currentThread() instanceof TransportThread;
  }

  /** Daemon transport threads named {@code <prefix>-<n>}. */
  static ThreadFactory factory(String prefix) {
    AtomicInteger next = new AtomicInteger();
    return task -> new TransportThread(task, prefix + "-" + next.incrementAndGet());
  }
}
