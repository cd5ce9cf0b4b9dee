package io.junction.server.grpc;

import io.junction.server.config.InboundMemory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The bytes that gRPC messages not yet received whole hold, across every connection of the server.
 * grpc-java gathers a message until its last byte has come and grants the sender more window as it
 * goes, so without a bound a client that sends most of many large messages and stops holds that memory
 * for as long as it likes. {@link IncompleteMessageGuard}s (one per connection) count against it.
 */
public final class IncompleteMessageBudget {
  /** Why a stream was cut before its message (the request, or its answer) was complete. */
  public enum Cut {
    /** its connection held more than {@link InboundMemory#perConnectionBytes()} */
    CONNECTION_LIMIT,
    /** all connections together held more than {@link InboundMemory#totalBytes()} */
    SERVER_LIMIT,
    /** its message did not arrive whole within the read timeout */
    STALLED,
    /** its answer waited on a client that took none of it for the answer stall timeout */
    ANSWER_UNTAKEN
  }

  private final InboundMemory limits;
  private final long stallNanos;
  private final Consumer<Cut> onCut;
  private final AtomicLong held = new AtomicLong();

  /**
   * @param stallTimeout how long a message may take from its first byte to its last
   * @param onCut told of every stream cut (a metric)
   */
  public IncompleteMessageBudget(InboundMemory limits, Duration stallTimeout, Consumer<Cut> onCut) {
    this.limits = limits;
    this.stallNanos = stallTimeout.toNanos();
    this.onCut = onCut;
  }

  /** Bytes held now by messages not yet complete, on all connections. */
  public long held() {
    return held.get();
  }

  long add(long delta) {
    return held.addAndGet(delta);
  }

  InboundMemory limits() {
    return limits;
  }

  long stallNanos() {
    return stallNanos;
  }

  void cut(Cut why) {
    onCut.accept(why);
  }
}
