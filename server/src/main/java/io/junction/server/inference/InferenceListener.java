package io.junction.server.inference;

import io.junction.server.tensor.Tensor;

/**
 * Sees every call the {@link InferencePipeline} handles: metrics, payload logging, drift monitoring,
 * canary judgement. Called on the thread that finished the call, after its answer was handed to the
 * transport, so implementations must be fast, thread-safe and non-blocking; anything slow (files,
 * network) belongs on the listener's own bounded queue. A listener that throws is logged and skipped;
 * it never affects the call or the other listeners.
 *
 * <p>Tensors in an outcome are views of the request's and the answer's buffers: read them (through
 * {@link Tensor#data()}, which is read-only) before returning, or copy what
 * must outlive the call.
 */
@FunctionalInterface
public interface InferenceListener {
  /** A call arrived and the pipeline took it (before routing and validation). */
  default void accepted(InferenceCall call, RequestContext context) {}

  /**
   * A call's answer is about to be handed to the transport: for what its caller may count on as soon as it has the
   * answer (feedback about the call finds it). It delays every answer, so it must cost next to nothing.
   */
  default void answering(InferenceOutcome outcome) {}

  /** A call was answered, successfully or not. */
  void completed(InferenceOutcome outcome);
}
