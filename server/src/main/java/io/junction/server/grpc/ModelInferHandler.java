package io.junction.server.grpc;

import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.model.ModelManager;
import io.junction.server.model.ServedModel;
import io.junction.server.errors.ModelUnavailableException;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.scheduling.InferenceScheduler;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * The path of one inference request shared by ModelInfer and ModelStreamInfer: resolve the model
 * version, decode and validate, hand it to the scheduler, encode the answer. It never throws; every
 * failure completes the returned future exceptionally.
 */
final class ModelInferHandler {
  private final ModelManager models;
  private final InferenceScheduler scheduler;

  ModelInferHandler(ModelManager models, InferenceScheduler scheduler) {
    this.models = models;
    this.scheduler = scheduler;
  }

  CompletableFuture<ModelInferResponse> handle(ModelInferRequest request, long deadlineNanos,
      BooleanSupplier cancelled) {
    long arrival = System.nanoTime();
    ServedModel model;
    try {
      model = models.resolve(request.getModelName(), request.getModelVersion());
      if (!model.tryAcquire()) {
        throw new ModelUnavailableException(model.label() + " is being unloaded");
      }
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    try {
      InferenceRequest domain = InferRequestDecoder.decode(request, model, arrival, deadlineNanos, cancelled);
      return scheduler.submit(domain)
          .thenApply(InferResponseEncoder::encode)
          .whenComplete((r, e) -> model.release());
    } catch (RuntimeException e) {
      model.stats().recordFailure(System.nanoTime() - arrival);
      model.release();
      return CompletableFuture.failedFuture(e);
    }
  }
}
