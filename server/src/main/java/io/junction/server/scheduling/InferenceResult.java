package io.junction.server.scheduling;

import io.junction.server.tensor.Tensor;
import java.util.List;

/**
 * The answer to one request: the model version that served it, the outputs asked for, in order, and
 * where its time went: waiting in the queue, then its batch's input preparation, execution and output
 * extraction.
 */
public record InferenceResult(String id, String modelName, long modelVersion, List<Tensor> outputs, long queueNanos,
    long computeInputNanos, long computeInferNanos, long computeOutputNanos) {
  public InferenceResult {
    outputs = List.copyOf(outputs);
  }
}
