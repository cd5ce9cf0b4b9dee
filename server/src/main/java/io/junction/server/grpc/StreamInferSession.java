package io.junction.server.grpc;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelStreamInferResponse;
import io.junction.server.inference.InferenceOutcome;
import io.junction.server.inference.InferencePipeline;
import io.junction.server.inference.RequestContext;
import io.junction.server.telemetry.SpanNames;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * One ModelStreamInfer stream. Requests run concurrently, up to a window, but answers go out in the
 * order the requests came: each answer is chained behind the previous one. A failed request is
 * answered with {@code error_message} and the stream stays open, as in Triton.
 *
 * <p>Inbound calls ({@code onNext}, {@code onCompleted}) are serialised by gRPC; outbound calls are
 * serialised by the chain, since each runs only after the previous one finished.
 */
final class StreamInferSession implements StreamObserver<ReceivedRequest> {
  private final ServerCallStreamObserver<ModelStreamInferResponse> call;
  private final InferencePipeline pipeline;
  private final RequestContext.Headers headers;
  private final Context context;
  private final Tracer tracer;
  private final UnaryOperator<Span> requestSpans;
  private final LargeRequestLane lane;
  private final InferRequestMarshaller parser;
  /** Requests of this stream still queued or running, cancelled together if the stream is. */
  private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
  /** Completes when every answer so far has been sent. Touched only by inbound calls. */
  private CompletableFuture<Void> sent = CompletableFuture.completedFuture(null);
  /** Requests not taken yet because the client was not reading its answers; guarded by this. */
  private int owed;

  /**
   * @param headers the stream's metadata: every request of the stream is routed by it
   * @param lane where large requests are parsed, by {@code parser}, before they run
   */
  StreamInferSession(ServerCallStreamObserver<ModelStreamInferResponse> call, InferencePipeline pipeline, int window,
      RequestContext.Headers headers, Context context, Tracer tracer, UnaryOperator<Span> requestSpans,
      LargeRequestLane lane, InferRequestMarshaller parser) {
    this.tracer = tracer;
    this.requestSpans = requestSpans;
    this.lane = lane;
    this.parser = parser;
    this.call = call;
    this.pipeline = pipeline;
    this.headers = headers;
    this.context = context;
    // One cancellation handler for the stream, rather than a listener per request on its context.
    call.setOnCancelHandler(() -> inFlight.forEach(f -> f.cancel(false)));
    call.disableAutoRequest();
    // A client that does not read its answers stops the stream reading its requests: the next request is
    // taken only once the transport can take the previous answer, so what the stream holds stays bounded
    // by the window.
    call.setOnReadyHandler(this::requestOwed);
    call.request(window);
  }

  @Override
  public void onNext(ReceivedRequest received) {
    // Each answer is chained behind the previous one, whichever thread finishes it.
    // The stream's server span is current here, not on the lane's threads.
    io.opentelemetry.context.Context trace = io.opentelemetry.context.Context.current();
    CompletableFuture<Answer> answer;
    if (received instanceof ReceivedRequest.Parsed parsed) {
      answer = answer(parsed, trace);
    } else if (received instanceof ReceivedRequest.Large large) {
      answer = lane.parse(large, parser::parseLarge, context::isCancelled).thenCompose(r -> r instanceof ReceivedRequest.Parsed p
          ? answer(p, trace) : CompletableFuture.completedFuture(refusal((ReceivedRequest.Refused) r)))
          .exceptionally(failure -> new Answer(ModelStreamInferResponse.newBuilder() // never break the chain of answers
              .setErrorMessage("INTERNAL: the request could not be parsed: " + failure).build()));
    } else {
      answer = CompletableFuture.completedFuture(refusal((ReceivedRequest.Refused) received));
    }
    sent = sent.thenCombine(answer, (ignored, next) -> {
      if (next != null) {
        try {
          if (!context.isCancelled()) {
            send(next.response());
          }
        } finally {
          next.sentOrDropped().run();
        }
      }
      return null;
    });
  }

  private static Answer refusal(ReceivedRequest.Refused refused) {
    return new Answer(ModelStreamInferResponse.newBuilder()
        .setErrorMessage(refused.code() + ": " + StatusTranslator.bounded(refused.message())).build());
  }

  /** Runs one request; its answer, or null when the stream was cancelled meanwhile. */
  private CompletableFuture<Answer> answer(ReceivedRequest.Parsed parsed,
      io.opentelemetry.context.Context trace) {
    ModelInferRequest request = parsed.request();
    // Each streamed request gets its own span under the stream's server span.
    Span span = requestSpans.apply(
        tracer.spanBuilder(SpanNames.STREAM_REQUEST).setParent(trace).setSpanKind(SpanKind.INTERNAL).startSpan());
    // As for ModelInfer (UnaryInferHandler): on the event loop that read it, a lone request of a model whose runs
    // are short runs right here, and its answer goes out from here; on the lane it is handed to the device.
    CompletableFuture<InferenceOutcome> outcome = pipeline.infer(InferCallDecoder.decode(parsed),
        new RequestContext(headers, RequestMetadata.deadlineNanos(context), context::isCancelled, span,
            TransportThread.isCurrent()));
    inFlight.add(outcome);
    return outcome.handle((o, cancelled) -> {
      inFlight.remove(outcome);
      if (o == null) { // cancelled with the stream: nobody to answer
        span.end();
        return null;
      }
      if (!o.succeeded()) {
        span.setStatus(StatusCode.ERROR, errorMessage(o.failure()));
      }
      span.end();
      return o.succeeded()
          ? new Answer(ModelStreamInferResponse.newBuilder().setInferResponse(InferResponseEncoder.encode(o)).build(),
              o::releaseOutputs)
          : new Answer(ModelStreamInferResponse.newBuilder()
              .setErrorMessage(errorMessage(o.failure()))
              .setInferResponse(ModelInferResponse.newBuilder().setModelName(request.getModelName())
                  .setModelVersion(request.getModelVersion()).setId(request.getId()))
              .build());
    });
  }

  /**
   * A response waiting for its turn, and what to do once it was sent (or will not be): its outputs may be
   * views of pooled memory, which goes back only after the response has been serialised.
   */
  private record Answer(ModelStreamInferResponse response, Runnable sentOrDropped) {
    Answer(ModelStreamInferResponse response) {
      this(response, () -> {});
    }
  }

  /** Sends an answer and takes the next request, or owes it while the client is not reading. */
  private synchronized void send(ModelStreamInferResponse response) {
    call.onNext(response);
    if (call.isReady()) {
      call.request(1);
    } else {
      owed++;
    }
  }

  /** The transport can take answers again: take the requests owed. */
  private synchronized void requestOwed() {
    if (owed > 0 && call.isReady()) {
      call.request(owed);
      owed = 0;
    }
  }

  private static String errorMessage(Throwable failure) {
    Status status = StatusTranslator.toStatus(failure).getStatus();
    return status.getDescription() == null ? status.getCode().name()
        : status.getCode() + ": " + status.getDescription();
  }

  @Override
  public void onError(Throwable t) {
    // The client went away; answers still in flight are dropped by the cancel handler.
  }

  @Override
  public void onCompleted() {
    sent.whenComplete((ignored, failure) -> {
      if (!context.isCancelled()) {
        call.onCompleted();
      }
    });
  }
}
