package io.junction.server.inference;

import io.junction.server.model.ServedModel;
import io.junction.server.routing.RouteDecision;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How one call ended: its answer or its failure, and on the way there which route variant and model
 * version served it. Transports encode it; {@link InferenceListener}s record it. Both the success and
 * the failure carry the routing decision, so a failed routed call can still say which variant failed.
 *
 * @param route the route's decision, or null when the call named a model directly (or routing itself
 *     failed)
 * @param model the model version that served the call, or was to serve it when it failed; null when
 *     the call failed before a version was found
 * @param request the validated request, or null when the call failed before validation passed
 * @param result the answer, or null on failure
 * @param failure why the call failed, or null on success
 * @param arrivalNanos {@link System#nanoTime()} when the call arrived
 * @param endNanos {@link System#nanoTime()} when it was answered
 * @param arrivalEpochMillis wall-clock time of arrival, for records kept outside the process
 * @param traceId the call's trace id, or null when it is not traced
 * @param spanId the id of the call's server span, or null when it is not traced
 */
public record InferenceOutcome(InferenceCall call, RouteDecision route, ServedModel model, InferenceRequest request,
    InferenceResult result, Throwable failure, long arrivalNanos, long endNanos, long arrivalEpochMillis,
    String traceId, String spanId) {
  public InferenceOutcome {
    Objects.requireNonNull(call, "call");
    if ((result == null) == (failure == null)) {
      throw new IllegalArgumentException("an outcome has either a result or a failure");
    }
  }

  public boolean succeeded() {
    return failure == null;
  }

  public Optional<RouteDecision> routeDecision() {
    return Optional.ofNullable(route);
  }

  public long latencyNanos() {
    return endNanos - arrivalNanos;
  }

  /** The model that served (or was meant to serve) the call: the route's variant's, or the one named. */
  public String modelName() {
    return model != null ? model.name() : route != null ? route.variant().model() : call.modelName();
  }

  /** The version that served, or -1 when the call failed before a version was found. */
  public long modelVersion() {
    return model != null ? model.version() : -1;
  }

  /** The validated inputs (read-only views), or an empty map when validation did not pass. */
  public Map<String, Tensor> inputs() {
    return request == null ? Map.of() : request.inputs();
  }

  /** The outputs returned, in order; empty on failure. */
  public List<Tensor> outputs() {
    return result == null ? List.of() : result.outputs();
  }

  /**
   * The taker of this outcome from {@link InferencePipeline#infer}'s future has written the answer and reads
   * its outputs no more: their pooled memory may go back. Call once; a failed outcome has nothing to release.
   */
  public void releaseOutputs() {
    if (result != null) {
      result.outputsMemory().release();
    }
  }
}
