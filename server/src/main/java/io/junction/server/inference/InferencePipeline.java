package io.junction.server.inference;

import io.junction.server.model.FailureReason;
import io.junction.server.model.ModelAccess;
import io.junction.server.model.ServedModel;
import io.junction.server.routing.Route;
import io.junction.server.routing.RouteDecision;
import io.junction.server.routing.RouteRegistry;
import io.junction.server.routing.ShadowTraffic;
import io.junction.server.routing.TrafficRouter;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.scheduling.InferenceScheduler;
import io.junction.server.telemetry.ClientText;
import io.junction.server.telemetry.SpanNames;
import io.junction.server.tensor.BufferLease;
import io.junction.server.tensor.Tensor;
import io.opentelemetry.api.trace.Span;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of one inference call, whatever transport brought it: route, resolve the model version,
 * admit, validate, queue, answer, then tell the listeners and, for routes with a shadow, mirror it.
 * Transports only decode into an {@link InferenceCall} and encode the {@link InferenceOutcome}.
 *
 * <p>{@link #infer} never throws and its future never completes exceptionally: every failure is an
 * outcome, carrying the routing decision made before it. Cancelling the returned future (the caller
 * went away) takes the request out of the queue if it has not run yet.
 *
 * <p>A call whose inputs are views of a pooled buffer ({@link InferenceCall#memory()}) gives it back once
 * the listeners have read the call and the scheduler no longer reads any request made from it (it holds
 * its own reference for that, released when the request ran, failed, expired or left the queue; a
 * cancelled request's future completes at once, even while its batch may still be reading). A call
 * mirrored to a shadow abandons the buffer to the garbage collector: the pool never hands out memory that
 * someone may still read.
 *
 * <p>Likewise an answer's outputs may be views of pooled memory ({@link InferenceResult#outputsMemory()}).
 * Whoever takes an outcome from {@link #infer}'s future holds one reference on it and must
 * {@linkplain InferenceOutcome#releaseOutputs() release} it once the answer is written (a transport that
 * forgets costs the pool a buffer, never correctness); listeners read the outputs while the pipeline holds
 * its own.
 */
public final class InferencePipeline {
  private static final Logger log = LoggerFactory.getLogger(InferencePipeline.class);

  private final ModelAccess access;
  private final InferenceScheduler scheduler;
  private final RouteRegistry routes;
  private final ShadowTraffic shadows;
  private final ResponseCache cache;
  private final List<InferenceListener> listeners;

  /**
   * @param cache answers of the models that enable it, looked up before a request is queued
   * @param listeners told of every call, in this order; see {@link InferenceListener} for what they may do
   */
  public InferencePipeline(ModelAccess access, InferenceScheduler scheduler, RouteRegistry routes,
      ShadowTraffic shadows, ResponseCache cache, List<InferenceListener> listeners) {
    this.access = access;
    this.scheduler = scheduler;
    this.routes = routes;
    this.shadows = shadows;
    this.cache = cache;
    this.listeners = List.copyOf(listeners);
  }

  /** Runs a call; takes over the caller's hold on the call's {@linkplain InferenceCall#memory() memory}. */
  public CompletableFuture<InferenceOutcome> infer(InferenceCall call, RequestContext context) {
    long arrival = System.nanoTime();
    long arrivalMillis = System.currentTimeMillis();
    for (InferenceListener l : listeners) {
      try {
        l.accepted(call, context);
      } catch (RuntimeException e) {
        log.warn("inference listener {} failed on an accepted call", l.getClass().getName(), e);
      }
    }
    Span span = context.span();
    if (span.isRecording()) {
      span.setAttribute(SpanNames.MODEL_NAME, ClientText.bounded(call.modelName()));
      if (!call.modelVersion().isEmpty()) {
        span.setAttribute(SpanNames.MODEL_VERSION_REQUESTED, ClientText.bounded(call.modelVersion()));
      }
      if (!call.id().isEmpty()) {
        span.setAttribute(SpanNames.REQUEST_ID, ClientText.bounded(call.id()));
      }
    }
    Attempt attempt = new Attempt(call, context, arrival, arrivalMillis);
    try {
      Optional<Route> route = routes.current().route(call.modelName());
      if (route.isPresent()) {
        attempt.route = decide(route.get(), call, context);
        recordDecision(span, attempt.route);
        attempt.run(attempt.route.variant().model(), attempt.route.variant().version());
      } else {
        attempt.run(call.modelName(), call.modelVersion());
      }
    } catch (RuntimeException e) {
      attempt.finish(null, e);
    }
    return attempt.answer;
  }

  private static RouteDecision decide(Route route, InferenceCall call, RequestContext context) {
    String key = context.headers().get(TrafficRouter.ROUTING_KEY_HEADER);
    if (key == null) {
      Parameter p = call.parameters().get(InferenceCall.ROUTING_KEY);
      key = p == null ? null : p.text();
    }
    return TrafficRouter.decide(route, context.headers()::get, key, call.modelVersion(),
        ThreadLocalRandom.current().nextDouble());
  }

  private static void recordDecision(Span span, RouteDecision decision) {
    if (span.isRecording()) {
      span.setAttribute(SpanNames.ROUTE, decision.route().name());
      span.setAttribute(SpanNames.VARIANT, decision.variant().name());
      span.setAttribute(SpanNames.ROUTE_REASON, decision.reason());
    }
  }

  /** Sends an answered call's request to its route's shadow; called after the caller has its answer. */
  private void mirror(RouteDecision decision, InferenceCall call, InferenceResult primary) {
    Route route = decision.route();
    var shadow = route.shadow().orElseThrow();
    shadows.mirror(route, primary, dropped -> {
      RequestContext detached = new RequestContext(RequestContext.Headers.NONE, InferenceRequest.NO_DEADLINE,
          dropped, Span.getInvalid(), true);
      return access.acquire(shadow.model(), shadow.version())
          .thenCompose(model -> submit(call, model, System.nanoTime(), detached, null));
    });
  }

  /**
   * Admits, validates and queues the call for {@code model}, on which the caller holds a reference that
   * this method releases when the request is done.
   *
   * @param validated receives the validated request, when validation passes; may be null
   */
  private CompletableFuture<InferenceResult> submit(InferenceCall call, ServedModel model, long arrival,
      RequestContext context, Attempt validated) {
    InferenceScheduler.Ticket ticket = null;
    try {
      ticket = scheduler.admit(model);
      // Checked before the validator decodes the tensors, so a bad classification allocates nothing; a shadow
      // (validated == null) compares the model's own outputs and asks for no classes.
      Map<String, Integer> classes = validated == null ? Map.of()
          : OutputClassification.requested(model.label(), call, model.signature());
      InferenceRequest request = RequestValidator.validate(call, model, arrival, context);
      if (validated != null) {
        validated.request = request;
        validated.classes = classes;
        if (cache.caches(model)) {
          CompletableFuture<InferenceResult> hit = lookUp(model, request, context, validated);
          if (hit != null) {
            ticket.abandon(); // answered without the queue
            ticket = null;
            model.release();
            return hit;
          }
        }
      }
      InferenceScheduler.Ticket admitted = ticket;
      ticket = null;
      // The scheduler's own hold on the inputs' memory, which it releases once no batch will read them.
      call.memory().retain();
      CompletableFuture<InferenceResult> queued;
      try {
        queued = admitted.submit(request);
      } catch (RuntimeException e) {
        call.memory().release(); // refused: the scheduler did not take the request
        throw e;
      }
      queued.whenComplete((r, e) -> model.release());
      if (validated != null) {
        validated.queued(queued);
      }
      return queued;
    } catch (RuntimeException e) {
      if (ticket != null) {
        ticket.abandon();
      }
      model.stats().recordFailure(System.nanoTime() - arrival, FailureReason.of(e));
      model.release();
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The cached answer to {@code request}, or null when there is none, in which case the attempt keeps the key to
   * store the answer under once it has one. A caller whose trace is sampled sees which on its span.
   */
  private CompletableFuture<InferenceResult> lookUp(ServedModel model, InferenceRequest request,
      RequestContext context, Attempt attempt) {
    long start = System.nanoTime();
    RequestKey key = RequestKey.of(request);
    List<Tensor> outputs = cache.lookup(key);
    InferenceResult cached = outputs == null ? null : new InferenceResult(request.id(), model.name(), model.version(),
        outputs, start - request.arrivalNanos(), 0, 0, 0, BufferLease.none());
    long end = System.nanoTime();
    Span span = context.span();
    if (span.isRecording()) {
      span.setAttribute(SpanNames.RESPONSE_CACHE, cached == null ? "miss" : "hit");
    }
    if (cached == null) {
      attempt.cacheKey = key;
      attempt.cacheLookupNanos = end - start;
      return null;
    }
    model.stats().recordCacheHit(end - request.arrivalNanos(), start - request.arrivalNanos(), end - start);
    return CompletableFuture.completedFuture(cached);
  }

  /** Tells every listener of a call's outcome ({@code answering} or {@code completed}); one that throws is skipped. */
  private void tellListeners(InferenceOutcome outcome, BiConsumer<InferenceListener, InferenceOutcome> event) {
    for (InferenceListener l : listeners) {
      try {
        event.accept(l, outcome);
      } catch (RuntimeException e) {
        log.warn("inference listener {} failed", l.getClass().getName(), e);
      }
    }
  }

  /** One call on its way through the pipeline. */
  private final class Attempt {
    final InferenceCall call;
    final RequestContext context;
    final long arrival;
    final long arrivalMillis;
    final CompletableFuture<InferenceOutcome> answer = new CompletableFuture<>();
    /** Written before the request is queued, read when it completes (ordered by the future). */
    RouteDecision route;
    ServedModel model;
    InferenceRequest request;
    /** Outputs to answer as their top classes, by name, with how many (Triton's classification extension). */
    Map<String, Integer> classes = Map.of();
    /** Where the answer goes in the response cache, when the model caches answers and had none for this request. */
    RequestKey cacheKey;
    long cacheLookupNanos;
    /** The scheduler's future, once queued; cancelling it takes the request out of the queue. */
    private volatile CompletableFuture<InferenceResult> queued;

    Attempt(InferenceCall call, RequestContext context, long arrival, long arrivalMillis) {
      this.call = call;
      this.context = context;
      this.arrival = arrival;
      this.arrivalMillis = arrivalMillis;
    }

    void run(String model, String version) {
      CompletableFuture<InferenceResult> result = access.acquire(model, version)
          .thenCompose(served -> {
            this.model = served;
            if (context.span().isRecording()) {
              context.span().setAttribute(SpanNames.MODEL_VERSION, Long.toString(served.version()));
            }
            return submit(call, served, arrival, context, this);
          });
      // The caller going away (the answer cancelled) takes the request out of the queue.
      answer.whenComplete((o, e) -> {
        CompletableFuture<InferenceResult> q = queued;
        if (answer.isCancelled() && q != null) {
          q.cancel(false);
        }
      });
      result.whenComplete(this::finish);
    }

    void queued(CompletableFuture<InferenceResult> future) {
      queued = future;
      if (answer.isCancelled()) {
        future.cancel(false); // the caller left while the request was on its way to the queue
      }
    }

    void finish(InferenceResult result, Throwable failure) {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      // The shadow compares the model's own outputs: what the caller gets may be their classes.
      InferenceResult answered = result;
      if (result != null && !classes.isEmpty()) {
        try {
          answered = OutputClassification.apply(result, classes, model);
        } catch (RuntimeException e) { // an answer all the same, never a call left hanging
          answered = null;
          cause = e;
        }
      }
      InferenceOutcome outcome = new InferenceOutcome(call, route, model, request, answered, cause, arrival,
          System.nanoTime(), arrivalMillis, context.traceId(), context.spanId());
      BufferLease outputs = result == null ? BufferLease.none() : result.outputsMemory();
      outputs.retain(); // the answer's reader's hold, released by it once it has written the answer
      tellListeners(outcome, InferenceListener::answering);
      if (!answer.complete(outcome)) {
        outputs.release(); // the caller went away: nobody takes the answer
      }
      tellListeners(outcome, InferenceListener::completed);
      if (cacheKey != null) {
        // After the answer, so the copies do not delay it; before the request's inputs and the result's outputs
        // are released, since the cache copies both.
        long start = System.nanoTime();
        if (result != null) {
          cache.store(cacheKey, result.outputs());
          if (model.isRetired()) {
            cache.forget(cacheKey); // retired meanwhile: its answers may have been dropped before this one went in
          }
        }
        model.stats().recordCacheMiss(cacheLookupNanos + System.nanoTime() - start);
      }
      if (route != null && result != null && shadows.sample(route.route())) {
        // The shadow reads the inputs, and compares the outputs, later, for as long as its own request takes.
        call.memory().abandon();
        outputs.abandon();
        mirror(route, call, result);
      } else {
        call.memory().release();
        outputs.release();
      }
    }
  }
}
