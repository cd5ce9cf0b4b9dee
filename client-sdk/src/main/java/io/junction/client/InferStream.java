package io.junction.client;

import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelStreamInferResponse;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;

/**
 * A ModelStreamInfer stream, typed: {@link #send} returns the future of its request's answer; answers
 * come in the order requests were sent, and a request that fails completes its own future with a
 * {@link JunctionException} while the stream goes on (as Triton's streams do).
 *
 * <p>Back-pressure: {@code send} waits while the transport is not taking more (the server reads a
 * stream's requests only as fast as it answers them) or while {@code maxOutstanding} answers are
 * still to come, so a fast producer never piles requests up in memory.
 *
 * <p>{@code send} may be called from several threads; requests are then sent in the order the calls
 * took the stream. Answers complete on a gRPC thread: chain heavy work onto an executor of your own.
 * {@link #close} half-closes and waits for every answer; {@link #cancel} drops what is outstanding.
 */
public final class InferStream implements AutoCloseable {
  static final int DEFAULT_MAX_OUTSTANDING = 64;

  private final ClientCall<ModelInferRequest, ModelStreamInferResponse> call;
  private final int maxOutstanding;
  /** Futures of requests sent and not answered yet, oldest first; guarded by this. */
  private final Queue<CompletableFuture<InferResult>> outstanding = new ArrayDeque<>();
  private final CompletableFuture<Status> closed = new CompletableFuture<>();
  private boolean halfClosed;

  InferStream(ClientCall<ModelInferRequest, ModelStreamInferResponse> call, int maxOutstanding) {
    this.call = call;
    this.maxOutstanding = maxOutstanding;
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(ModelStreamInferResponse message) {
        answered(message);
      }

      @Override
      public void onReady() {
        wake();
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        ended(status);
      }
    }, new Metadata());
    call.request(1);
  }

  /**
   * Sends a request, first waiting while the stream is not taking more. Per-request deadlines and
   * headers do not apply on a stream (the stream's own do).
   *
   * @return completes with the answer, or fails with the request's own error
   * @throws JunctionException when the stream has ended
   * @throws InterruptedException while waiting to send
   */
  public CompletableFuture<InferResult> send(InferRequest request) throws InterruptedException {
    CompletableFuture<InferResult> answer = new CompletableFuture<>();
    synchronized (this) {
      while (!closed.isDone() && (!call.isReady() || outstanding.size() >= maxOutstanding)) {
        wait(100); // woken by onReady and by answers; the timeout covers a readiness change without a callback
      }
      if (closed.isDone() || halfClosed) {
        throw new JunctionException(closed.isDone() ? closed.join() : Status.FAILED_PRECONDITION
            .withDescription("the stream was closed for sending"), null);
      }
      outstanding.add(answer);
      call.sendMessage(request.toProto());
    }
    return answer;
  }

  /** Requests sent whose answers have not come yet. */
  public synchronized int outstanding() {
    return outstanding.size();
  }

  /** Sends no more requests and waits until every answer has come and the stream has ended. */
  @Override
  public void close() {
    synchronized (this) {
      if (!halfClosed && !closed.isDone()) {
        halfClosed = true;
        call.halfClose();
      }
    }
    Status status = closed.join();
    if (!status.isOk() && status.getCode() != Status.Code.CANCELLED) {
      throw new JunctionException(status, null);
    }
  }

  /** Ends the stream now: outstanding answers fail with CANCELLED. */
  public void cancel() {
    call.cancel("cancelled by the client", null);
  }

  private void answered(ModelStreamInferResponse message) {
    CompletableFuture<InferResult> answer;
    synchronized (this) {
      answer = outstanding.poll();
      notifyAll();
    }
    call.request(1);
    if (answer == null) {
      return; // an answer to nothing we sent: ignore it
    }
    if (message.getErrorMessage().isEmpty()) {
      answer.complete(new InferResult(message.getInferResponse(), null));
    } else {
      answer.completeExceptionally(new JunctionException(errorStatus(message.getErrorMessage()), null));
    }
  }

  /** A stream error reads "CODE: message", as Junction writes it; other servers' messages are UNKNOWN. */
  private static Status errorStatus(String message) {
    int colon = message.indexOf(':');
    if (colon > 0) {
      try {
        return Status.fromCode(Status.Code.valueOf(message.substring(0, colon)))
            .withDescription(message.substring(colon + 1).strip());
      } catch (IllegalArgumentException e) {
        // not a code
      }
    }
    return Status.UNKNOWN.withDescription(message);
  }

  private synchronized void wake() {
    notifyAll();
  }

  private void ended(Status status) {
    Queue<CompletableFuture<InferResult>> unanswered;
    synchronized (this) {
      unanswered = new ArrayDeque<>(outstanding);
      outstanding.clear();
      closed.complete(status);
      notifyAll();
    }
    Status failure = status.isOk()
        ? Status.INTERNAL.withDescription("the stream ended before this request was answered") : status;
    unanswered.forEach(f -> f.completeExceptionally(new JunctionException(failure, null)));
  }
}
