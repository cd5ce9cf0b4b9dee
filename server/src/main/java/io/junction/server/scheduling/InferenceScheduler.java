package io.junction.server.scheduling;

import java.util.concurrent.CompletableFuture;

/**
 * Decides when and where a request runs. The transport hands every request to one scheduler and waits
 * on the future; a future never completes on the caller's thread before {@code submit} returns.
 */
public interface InferenceScheduler extends AutoCloseable {
  /**
   * Accepts a request. On success the scheduler owns it until the returned future completes; on
   * failure (an exception thrown, e.g. {@link io.junction.server.errors.QueueFullException}) the caller
   * still owns it.
   *
   * @return completes with the result, or exceptionally with a
   *     {@link io.junction.server.errors.JunctionException} that says what went wrong
   */
  CompletableFuture<InferenceResult> submit(InferenceRequest request);

  /** Stops taking requests, finishes those accepted, and releases threads. */
  @Override
  void close();
}
