package io.junction.server.scheduling;

import io.junction.proto.inference.ModelQueuePolicy;

/**
 * How one priority level's queue treats its requests, from Triton's {@code ModelQueuePolicy}.
 *
 * @param action what happens to a request whose queue timeout passes
 * @param defaultTimeoutNanos queue timeout; 0 for none
 * @param allowTimeoutOverride whether a request's {@code timeout} parameter (microseconds) may set its own
 * @param maxQueueSize requests that may wait at this level; further ones are rejected at once
 */
public record QueuePolicy(TimeoutAction action, long defaultTimeoutNanos, boolean allowTimeoutOverride, int maxQueueSize) {
  /** What to do with a request that waited past its queue timeout. */
  public enum TimeoutAction {
    /** Answer it at once (UNAVAILABLE); it never runs. */
    REJECT,
    /** Keep it, but run it only when no request that is still within its timeout waits. */
    DELAY
  }

  public QueuePolicy {
    if (defaultTimeoutNanos < 0) {
      throw new IllegalArgumentException("defaultTimeoutNanos must be non-negative, got " + defaultTimeoutNanos);
    }
    if (maxQueueSize < 1) {
      throw new IllegalArgumentException("maxQueueSize must be positive, got " + maxQueueSize);
    }
  }

  /**
   * @param fallbackMaxQueueSize the bound used where Triton's config says 0 (unbounded): Junction's
   *     queues are always bounded
   */
  static QueuePolicy from(ModelQueuePolicy proto, int fallbackMaxQueueSize) {
    return new QueuePolicy(
        proto.getTimeoutAction() == ModelQueuePolicy.TimeoutAction.DELAY ? TimeoutAction.DELAY : TimeoutAction.REJECT,
        Math.multiplyExact(proto.getDefaultTimeoutMicroseconds(), 1000L),
        proto.getAllowTimeoutOverride(),
        proto.getMaxQueueSize() == 0 ? fallbackMaxQueueSize : (int) Math.min(proto.getMaxQueueSize(), Integer.MAX_VALUE));
  }

  static QueuePolicy unbounded(int fallbackMaxQueueSize) {
    return new QueuePolicy(TimeoutAction.REJECT, 0, false, fallbackMaxQueueSize);
  }
}
