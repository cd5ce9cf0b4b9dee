package io.junction.server.backend;

import io.junction.server.errors.JunctionException;
import io.junction.server.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * One loaded model version, ready to run. Implementations must allow concurrent {@link #run} calls
 * (the server runs several requests or batches of one model in parallel); {@link #close()} is called
 * once, after the last run has returned.
 */
public interface LoadedModel extends AutoCloseable {
  ModelSignature signature();

  /**
   * Runs the model.
   *
   * @param inputs every input of the signature, validated against it; the backend may read their
   *     buffers in place but must not keep them after returning
   * @param outputs names of the outputs to produce, never empty
   * @param timings receives the time spent preparing inputs, executing and extracting outputs
   * @return the requested outputs, in the order asked for
   * @throws JunctionException for failures the caller should see as such
   *     (e.g. an input the backend cannot represent)
   */
  List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings);

  /**
   * Runs the model as {@link #run(Map, List, ExecutionTimings)} does, writing outputs whose size it knows
   * before running into buffers from {@code buffers} where it can (the returned tensors are then views of
   * them). Backends that cannot write into given memory ignore it, as this default does.
   */
  default List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings,
      OutputBuffers buffers) {
    return run(inputs, outputs, timings);
  }

  /**
   * Bytes of device memory this copy holds (a GPU backend's engine, weights and buffers), for the memory
   * budget of its device; 0 when unknown, and for the CPU, whose cost the server measures itself.
   */
  default long deviceMemoryBytes() {
    return 0;
  }

  @Override
  void close();
}
