package io.junction.server.grpc;

import io.grpc.Status;
import io.junction.server.concurrent.NamedThreadFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Where large ModelInfer requests are parsed, decoded and handed to the pipeline: threads of their own,
 * so that a burst of them (tens of megabytes each) never holds up small calls on the transport's call
 * executor. What waits here is bounded in bytes; past the bound a request is refused with
 * RESOURCE_EXHAUSTED rather than held.
 */
public final class LargeRequestLane implements AutoCloseable {
  private final ExecutorService threads;
  private final long maxWaitingBytes;
  private final AtomicLong waitingBytes = new AtomicLong();
  private final AtomicInteger waiting = new AtomicInteger();
  private final Runnable onRefused;

  /**
   * @param threads how many large requests are worked on at once
   * @param maxWaitingBytes bytes of large requests that may wait or be worked on at once
   * @param onRefused told when one is refused for that bound (a metric)
   */
  public LargeRequestLane(int threads, long maxWaitingBytes, Runnable onRefused) {
    // Unbounded in count, bounded in bytes by maxWaitingBytes before anything is queued.
    this.threads = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        new NamedThreadFactory("junction-large-request", true));
    this.maxWaitingBytes = maxWaitingBytes;
    this.onRefused = onRefused;
  }

  /** Large requests waiting or being worked on now. */
  public int waiting() {
    return waiting.get();
  }

  /**
   * Parses a large request on the lane. The result completes on a lane thread, so what the caller chains
   * to it (decoding, validation, queueing) runs there too.
   *
   * @param abandoned whether the call went away meanwhile: then it is not parsed
   */
  CompletableFuture<ReceivedRequest> parse(ReceivedRequest.Large large,
      Function<ReceivedRequest.Large, ReceivedRequest> parser, BooleanSupplier abandoned) {
    long held = waitingBytes.addAndGet(large.size());
    if (held > maxWaitingBytes) {
      waitingBytes.addAndGet(-large.size());
      large.close();
      onRefused.run();
      return CompletableFuture.completedFuture(new ReceivedRequest.Refused(Status.Code.RESOURCE_EXHAUSTED,
          "large requests waiting to be parsed already hold " + (held - large.size()) + " bytes; this one's "
              + large.size() + " would pass the server's limit of " + maxWaitingBytes + "; try again later"));
    }
    waiting.incrementAndGet();
    CompletableFuture<ReceivedRequest> parsed = new CompletableFuture<>();
    try {
      threads.execute(() -> {
        ReceivedRequest result = null;
        Throwable failure = null;
        try {
          if (abandoned.getAsBoolean()) {
            large.close();
            result = new ReceivedRequest.Refused(Status.Code.CANCELLED, "the call was cancelled");
          } else {
            result = parser.apply(large);
          }
        } catch (RuntimeException | Error e) {
          large.close();
          failure = e;
        } finally {
          // Counted out before the call goes on (and may be answered) from here: the gauge never shows a
          // request waiting whose caller already has its answer.
          waitingBytes.addAndGet(-large.size());
          waiting.decrementAndGet();
        }
        if (failure != null) {
          parsed.completeExceptionally(failure);
        } else {
          parsed.complete(result);
        }
      });
    } catch (RejectedExecutionException e) { // closing
      waitingBytes.addAndGet(-large.size());
      waiting.decrementAndGet();
      large.close();
      parsed.complete(new ReceivedRequest.Refused(Status.Code.UNAVAILABLE, "the server is stopping"));
    }
    return parsed;
  }

  @Override
  public void close() {
    threads.shutdown();
  }
}
