package io.junction.server.grpc;

import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.model.ModelAccess;
import io.junction.server.model.ServedModel;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.scheduling.InferenceScheduler;
import io.junction.server.telemetry.SpanNames;
import io.opentelemetry.api.trace.Span;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The path of one inference request shared by ModelInfer and ModelStreamInfer: resolve the model
 * version, admit it to the scheduler, decode and validate, queue it, encode the answer. It never
 * throws; every failure completes the returned future exceptionally. A call cancelled by its client
 * takes its request out of the queue.
 */
final class ModelInferHandler {
  private final ModelAccess access;
  private final InferenceScheduler scheduler;

  ModelInferHandler(ModelAccess access, InferenceScheduler scheduler) {
    this.access = access;
    this.scheduler = scheduler;
  }

  /**
   * @param cancelled true once the caller has gone away
   * @param onQueued receives the queued request's future, to cancel it (which takes the request out of
   *     the queue) if the caller goes away
   * @param span the span this request's work is recorded on (the call's server span, or a child span
   *     per request of a stream); never null
   */
  CompletableFuture<ModelInferResponse> handle(ModelInferRequest request, long deadlineNanos,
      BooleanSupplier cancelled, Consumer<CompletableFuture<?>> onQueued, Span span) {
    span.setAttribute(SpanNames.MODEL_NAME, request.getModelName());
    span.setAttribute(SpanNames.MODEL_VERSION_REQUESTED, request.getModelVersion());
    if (!request.getId().isEmpty()) {
      span.setAttribute(SpanNames.REQUEST_ID, request.getId());
    }
    return handleTraced(request, deadlineNanos, cancelled, onQueued, span);
  }

  private CompletableFuture<ModelInferResponse> handleTraced(ModelInferRequest request, long deadlineNanos,
      BooleanSupplier cancelled, Consumer<CompletableFuture<?>> onQueued, Span span) {
    long arrival = System.nanoTime();
    return access.acquire(request.getModelName(), request.getModelVersion())
        .thenCompose(model -> run(request, model, arrival, deadlineNanos, cancelled, onQueued, span));
  }

  /** With a reference on {@code model}, which this method releases when the request is done. */
  private CompletableFuture<ModelInferResponse> run(ModelInferRequest request, ServedModel model, long arrival,
      long deadlineNanos, BooleanSupplier cancelled, Consumer<CompletableFuture<?>> onQueued, Span span) {
    span.setAttribute(SpanNames.MODEL_VERSION, Long.toString(model.version()));
    InferenceScheduler.Ticket ticket = null;
    try {
      ticket = scheduler.admit(model);
      InferenceRequest domain = InferRequestDecoder.decode(request, model, arrival, deadlineNanos, cancelled, span);
      InferenceScheduler.Ticket admitted = ticket;
      ticket = null;
      CompletableFuture<InferenceResult> queued = admitted.submit(domain);
      onQueued.accept(queued);
      return queued.thenApply(InferResponseEncoder::encode).whenComplete((r, e) -> model.release());
    } catch (RuntimeException e) {
      if (ticket != null) {
        ticket.abandon();
      }
      model.stats().recordFailure(System.nanoTime() - arrival);
      model.release();
      return CompletableFuture.failedFuture(e);
    }
  }
}
