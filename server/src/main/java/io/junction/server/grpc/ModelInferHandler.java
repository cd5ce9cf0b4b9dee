package io.junction.server.grpc;

import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.model.ModelAccess;
import io.junction.server.model.ServedModel;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.scheduling.InferenceScheduler;
import io.junction.proto.inference.InferParameter;
import io.junction.server.routing.Route;
import io.junction.server.routing.RouteDecision;
import io.junction.server.routing.RouteObserver;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.TrafficRouter;
import io.junction.server.telemetry.SpanNames;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
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
  /** Request parameter with the sticky routing key, for clients that cannot set metadata. */
  static final String ROUTING_KEY_PARAMETER = "routing_key";

  private final ModelAccess access;
  private final InferenceScheduler scheduler;
  private final RouteRegistry routes;
  private final RouteObserver routeObserver;
  /** Runs shadow requests off the primary's path; drops them when it is saturated. */
  private final Executor shadowExecutor;

  ModelInferHandler(ModelAccess access, InferenceScheduler scheduler, RouteRegistry routes,
      RouteObserver routeObserver, Executor shadowExecutor) {
    this.shadowExecutor = shadowExecutor;
    this.access = access;
    this.scheduler = scheduler;
    this.routes = routes;
    this.routeObserver = routeObserver;
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
    Optional<Route> route = routes.current().route(request.getModelName());
    if (route.isEmpty()) {
      return handleTraced(request, request.getModelName(), request.getModelVersion(), deadlineNanos, cancelled,
          onQueued, span);
    }
    return handleRouted(route.get(), request, deadlineNanos, cancelled, onQueued, span);
  }

  /** A request to a route: choose the variant, serve it from the variant's model, say which served. */
  private CompletableFuture<ModelInferResponse> handleRouted(Route route, ModelInferRequest request,
      long deadlineNanos, BooleanSupplier cancelled, Consumer<CompletableFuture<?>> onQueued, Span span) {
    long start = System.nanoTime();
    Map<String, String> headers = RoutingInterceptor.HEADERS.get() == null ? Map.of() : RoutingInterceptor.HEADERS.get();
    String key = headers.get(TrafficRouter.ROUTING_KEY_HEADER);
    InferParameter keyParameter = request.getParametersMap().get(ROUTING_KEY_PARAMETER);
    if (key == null && keyParameter != null) {
      key = keyParameter.getStringParam();
    }
    RouteDecision decision;
    try {
      decision = TrafficRouter.decide(route, headers, key, request.getModelVersion(),
          ThreadLocalRandom.current().nextDouble());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    String variant = decision.variant().name();
    span.setAttribute(SpanNames.ROUTE, route.name());
    span.setAttribute(SpanNames.VARIANT, variant);
    span.setAttribute(SpanNames.ROUTE_REASON, decision.reason());
    AtomicReference<String[]> servedBy = RoutingInterceptor.SERVED_BY.get();
    if (servedBy != null) {
      servedBy.set(new String[] {route.name(), variant});
    }
    return handleTraced(request, decision.variant().model(), decision.variant().version(), deadlineNanos, cancelled,
        onQueued, span)
        .thenApply(response -> response.toBuilder()
            .putParameters("junction_route", InferParameter.newBuilder().setStringParam(route.name()).build())
            .putParameters("junction_variant", InferParameter.newBuilder().setStringParam(variant).build())
            .build())
        .whenComplete((r, e) -> {
          routeObserver.routed(route.name(), variant, e == null, System.nanoTime() - start);
          if (r != null && route.shadow().isPresent()
              && ThreadLocalRandom.current().nextDouble() < route.shadow().get().fraction()) {
            mirror(route, request, r);
          }
        });
  }

  /**
   * Sends a copy of an answered request to the route's shadow, on the shadow executor: the primary's
   * answer is already on its way, and nothing the shadow does reaches the caller.
   */
  private void mirror(Route route, ModelInferRequest request, ModelInferResponse primary) {
    var shadow = route.shadow().orElseThrow();
    try {
      shadowExecutor.execute(() -> {
        long start = System.nanoTime();
        handleTraced(request, shadow.model(), shadow.version(), InferenceRequest.NO_DEADLINE, () -> false,
            queued -> { }, Span.getInvalid())
            .whenComplete((answer, failure) -> routeObserver.shadowed(route.name(), shadow.model(), failure == null,
                System.nanoTime() - start, failure == null ? ShadowCompare.compare(primary, answer) : null));
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      routeObserver.shadowed(route.name(), shadow.model(), false, 0, null); // dropped: the shadow lags behind
    }
  }

  private CompletableFuture<ModelInferResponse> handleTraced(ModelInferRequest request, String modelName,
      String version, long deadlineNanos, BooleanSupplier cancelled, Consumer<CompletableFuture<?>> onQueued, Span span) {
    long arrival = System.nanoTime();
    return access.acquire(modelName, version)
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
