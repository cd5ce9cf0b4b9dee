package io.junction.server.grpc;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.inference.InferencePipeline;
import io.junction.server.inference.RequestContext;
import io.junction.server.routing.RouteDecision;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.opentelemetry.api.trace.Span;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * ModelInfer at the level of the {@link ServerCall}, rather than through a generated stub, so that the
 * answer's headers (and a failure's trailers) can say which route and variant served it without
 * passing state through the gRPC context. It decodes, hands the call to the {@link InferencePipeline},
 * and encodes what comes back; a client that cancels takes its request out of the queue.
 */
final class UnaryInferHandler implements ServerCallHandler<ReceivedRequest, ModelInferResponse> {
  private final InferencePipeline pipeline;
  private final LargeRequestLane lane;
  private final InferRequestMarshaller parser;
  private final Timer timers;
  private final long readTimeoutNanos;

  /**
   * @param timers where the read timeouts wait: a timer wheel, since every call arms one and nearly every one is
   *     cancelled microseconds later (a scheduled executor's queue woke its thread for each)
   * @param readTimeout how long a call may take to deliver its whole request: a sender that stalls
   *     mid-message (holding the part it sent in memory) is answered DEADLINE_EXCEEDED and its stream
   *     reset after it
   * @param lane where large requests are parsed and handed on, by {@code parser}
   */
  UnaryInferHandler(InferencePipeline pipeline, LargeRequestLane lane, InferRequestMarshaller parser,
      Timer timers, Duration readTimeout) {
    this.pipeline = pipeline;
    this.lane = lane;
    this.parser = parser;
    this.timers = timers;
    this.readTimeoutNanos = readTimeout.toNanos();
  }

  @Override
  public ServerCall.Listener<ReceivedRequest> startCall(ServerCall<ReceivedRequest, ModelInferResponse> call,
      Metadata headers) {
    // Two, as grpc-java's own unary handler asks: a second message is a client error, answered as such.
    call.request(2);
    Listener listener = new Listener(call, headers, Context.current());
    listener.readTimeout = timers.newTimeout(expired -> listener.readTimedOut(), readTimeoutNanos, TimeUnit.NANOSECONDS);
    return listener;
  }

  private final class Listener extends ServerCall.Listener<ReceivedRequest> {
    private final ServerCall<ReceivedRequest, ModelInferResponse> call;
    private final Metadata headers;
    private final Context context;
    private ReceivedRequest request;
    private boolean tooMany;
    private volatile boolean cancelled;
    private volatile CompletableFuture<InferenceOutcome> answer;
    /** Set once: by the whole request arriving, or by the read timeout; whichever wins answers the call. */
    private final AtomicBoolean read = new AtomicBoolean();
    private volatile Timeout readTimeout;

    Listener(ServerCall<ReceivedRequest, ModelInferResponse> call, Metadata headers, Context context) {
      this.call = call;
      this.headers = headers;
      this.context = context;
    }

    @Override
    public void onMessage(ReceivedRequest message) {
      if (request != null) {
        tooMany = true;
        closeIfLarge(message);
        call.close(Status.INTERNAL.withDescription("ModelInfer is unary: the call carried more than one request"),
            new Metadata());
        return;
      }
      request = message;
    }

    /** The request did not arrive in time: free what was received of it and tell the client why. */
    private void readTimedOut() {
      if (read.compareAndSet(false, true) && !cancelled) {
        try {
          // In milliseconds: a timeout under a second would read "within 0 s" in seconds.
          call.close(Status.DEADLINE_EXCEEDED.withDescription("the request did not arrive within "
              + TimeUnit.NANOSECONDS.toMillis(readTimeoutNanos) + " ms of the call's start"), new Metadata());
        } catch (IllegalStateException e) {
          // closed meanwhile
        }
      }
    }

    private void stopReadTimeout() {
      Timeout timeout = readTimeout;
      if (timeout != null) {
        timeout.cancel();
      }
    }

    @Override
    public void onHalfClose() {
      stopReadTimeout();
      if (!read.compareAndSet(false, true) || tooMany) {
        ReceivedRequest unread = request;
        request = null;
        closeIfLarge(unread); // timed out first, or already answered
        return;
      }
      if (request == null) {
        call.close(Status.INTERNAL.withDescription("ModelInfer half-closed without a request"), new Metadata());
        return;
      }
      ReceivedRequest received = request;
      request = null;
      Span span = Span.current(); // the call's span lives in this thread's gRPC context, not the lane's
      if (received instanceof ReceivedRequest.Large large) {
        lane.parse(large, parser::parseLarge, () -> cancelled).whenComplete((parsed, failure) -> {
          if (failure != null) {
            refuse(Status.INTERNAL.withDescription("the request could not be parsed: " + failure));
          } else {
            proceed(parsed, span, false);
          }
        });
      } else {
        proceed(received, span, TransportThread.isCurrent());
      }
    }

    /**
     * Hands a parsed request to the pipeline, or answers a refused one; on whichever thread parsed it.
     *
     * @param onEventLoop whether this is the event loop that read the call, where a short model may run
     */
    private void proceed(ReceivedRequest received, Span span, boolean onEventLoop) {
      if (received instanceof ReceivedRequest.Refused refused) {
        refuse(Status.fromCode(refused.code()).withDescription(StatusTranslator.bounded(refused.message())));
        return;
      }
      ReceivedRequest.Parsed parsed = (ReceivedRequest.Parsed) received;
      if (cancelled) {
        parsed.memory().release();
        return;
      }
      // On the event loop that read the call, a lone request of a model whose runs are short (under 100 µs on
      // average, a device slot free, nothing waiting: DynamicBatcher) runs right here. The demo mlp at 16 callers
      // served 1.06-1.39 of the echo's calls so, against 0.91-1.10 with every run handed to the device's thread
      // (BENCHMARKS.md, "Short runs on the event loop"); such a run holds the loop no longer than decoding a large
      // request does. Never on the call executor, for a connection that sends large requests (CallPlacement), whose
      // few threads serve every such call, nor on the lane, whose few threads parse the next large requests
      // (letting them run lone calls gained nothing for 602 KB requests: "The 602 KB regression, bisected").
      RequestContext requestContext = new RequestContext(RequestMetadata.headers(headers),
          RequestMetadata.deadlineNanos(context), () -> cancelled, span, onEventLoop);
      CompletableFuture<InferenceOutcome> pending = pipeline.infer(InferCallDecoder.decode(parsed), requestContext);
      answer = pending;
      if (cancelled) {
        pending.cancel(false);
      }
      pending.thenAccept(this::respond);
    }

    private void refuse(Status status) {
      if (cancelled) {
        return;
      }
      try {
        call.close(status, new Metadata());
      } catch (IllegalStateException e) {
        // the client went away meanwhile
      }
    }

    private void closeIfLarge(ReceivedRequest message) {
      if (message instanceof ReceivedRequest.Large large) {
        large.close();
      }
    }

    @Override
    public void onCancel() {
      cancelled = true;
      stopReadTimeout();
      ReceivedRequest unread = request;
      if (unread != null) { // cancelled before the request was half-closed: its bytes are not taken up by anyone
        request = null;
        closeIfLarge(unread);
      }
      CompletableFuture<InferenceOutcome> pending = answer;
      if (pending != null) {
        pending.cancel(false);
      }
    }

    /** Runs once, on whichever thread finished the call; nothing else touches {@code call} by then. */
    private void respond(InferenceOutcome outcome) {
      try {
        if (!cancelled) {
          write(outcome);
        }
      } finally {
        outcome.releaseOutputs(); // sendMessage has serialised the response: its outputs are read
      }
    }

    private void write(InferenceOutcome outcome) {
      try {
        RouteDecision route = outcome.route();
        if (outcome.succeeded()) {
          ModelInferResponse response = InferResponseEncoder.encode(outcome);
          Metadata responseHeaders = new Metadata();
          putRoute(responseHeaders, route);
          call.sendHeaders(responseHeaders);
          call.sendMessage(response);
          call.close(Status.OK, new Metadata());
        } else {
          var failure = StatusTranslator.toStatus(outcome.failure());
          Metadata trailers = failure.getTrailers() == null ? new Metadata() : failure.getTrailers();
          putRoute(trailers, route);
          call.close(failure.getStatus(), trailers);
        }
      } catch (IllegalStateException e) {
        // The client went away while the answer was being written: nobody is left to tell.
      }
    }
  }

  private static void putRoute(Metadata metadata, RouteDecision route) {
    if (route != null) {
      metadata.put(RequestMetadata.ROUTE, route.route().name());
      metadata.put(RequestMetadata.VARIANT, route.variant().name());
    }
  }
}
