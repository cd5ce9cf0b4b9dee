package io.junction.server.inference;

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
 */
public record InferenceCall(String id, String modelName, String modelVersion, List<InputTensor> inputs,
    List<String> requestedOutputs, Map<String, Parameter> parameters) {
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
  }
}
