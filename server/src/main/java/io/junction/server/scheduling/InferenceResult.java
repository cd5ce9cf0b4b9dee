package io.junction.server.scheduling;

import io.junction.server.tensor.BufferLease;
import io.junction.server.tensor.Tensor;
import java.util.List;

/**
 * The answer to one request: the model version that served it, the outputs asked for, in order, and
 * where its time went: waiting in the queue, then its batch's input preparation, execution and output
 * extraction.
 *
 * @param outputsMemory pooled memory the outputs are views of ({@link BufferLease#none()} when they are
 *     ordinary heap buffers): whoever receives the result holds one reference on it, and releases it once
 *     nothing reads the outputs any more, or abandons it when it cannot tell when that is
 */
public record InferenceResult(String id, String modelName, long modelVersion, List<Tensor> outputs, long queueNanos,
    long computeInputNanos, long computeInferNanos, long computeOutputNanos, BufferLease outputsMemory) {
  public InferenceResult {
    outputs = List.copyOf(outputs);
  }
}
