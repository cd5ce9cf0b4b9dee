package io.junction.server.grpc;

/**
 * A thread of the gRPC endpoint's event loops ({@code junction-grpc-io-N}), marked as such so that a call can tell
 * whether it runs on one: a lone request of a short model, unary or streamed, may run its model on the event loop
 * that read it ({@link UnaryInferHandler}, {@link StreamInferSession}), and on none of the other threads where gRPC's
 * callbacks arrive.
 */
final class TransportThread extends Thread {
  TransportThread(Runnable task, String name) {
    super(task, name);
  }

  /** Whether the calling thread is an event loop's. */
  static boolean isCurrent() {
    return Thread.currentThread() instanceof TransportThread;
  }
}
