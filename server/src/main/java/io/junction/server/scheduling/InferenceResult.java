package io.junction.server.scheduling;

import io.junction.server.tensor.Tensor;
import java.util.List;

/** The answer to one request: the model version that served it and the outputs asked for, in order. */
public record InferenceResult(String id, String modelName, long modelVersion, List<Tensor> outputs) {
  public InferenceResult {
    outputs = List.copyOf(outputs);
  }
}
