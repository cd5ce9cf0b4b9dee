package io.junction.server.inference;

import io.junction.server.tensor.BufferLease;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One inference call as a transport decoded it: plain values, no protocol types, not yet matched to a
 * model. The gRPC service builds it from a {@code ModelInferRequest}; a REST front end would build it
 * from JSON. {@link InferencePipeline} validates it against the model version that serves it.
 *
 * @param modelName a model or a route
 * @param modelVersion the version asked for; empty for the model's policy
 * @param requestedOutputs outputs asked for by name, in order; empty for all
 * @param parameters request parameters by name ({@code priority}, {@code timeout}, {@code routing_key} ...)
 * @param memory the pooled buffer the inputs' bytes are views of, or {@link BufferLease#none()}; the pipeline
 *     that takes the call takes over the caller's hold on it and gives it back once nothing reads the inputs
 */
public record InferenceCall(String id, String modelName, String modelVersion, List<InputTensor> inputs,
    List<RequestedOutput> requestedOutputs, Map<String, Parameter> parameters, BufferLease memory) {
  /** Triton's request parameter for the priority level (1 is highest, 0 the model's default). */
  public static final String PRIORITY = "priority";
  /** Triton's request parameter for the queue timeout, in microseconds. */
  public static final String TIMEOUT_MICROS = "timeout";
  /** The sticky routing key, for clients that cannot set metadata. */
  public static final String ROUTING_KEY = "routing_key";

  public InferenceCall {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(modelName, "modelName");
    Objects.requireNonNull(modelVersion, "modelVersion");
    inputs = List.copyOf(inputs);
    requestedOutputs = List.copyOf(requestedOutputs);
    parameters = Map.copyOf(parameters);
    Objects.requireNonNull(memory, "memory");
  }

  /** A call whose inputs live on the heap. */
  public InferenceCall(String id, String modelName, String modelVersion, List<InputTensor> inputs,
      List<RequestedOutput> requestedOutputs, Map<String, Parameter> parameters) {
    this(id, modelName, modelVersion, inputs, requestedOutputs, parameters, BufferLease.none());
  }
}
