package io.junction.client;

import java.util.List;

/**
 * What a model accepts and returns (ModelMetadata).
 *
 * @param versions the versions ready to serve
 */
public record ModelInfo(String name, List<String> versions, String platform, List<TensorInfo> inputs,
    List<TensorInfo> outputs) {
  public ModelInfo {
    versions = List.copyOf(versions);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /**
   * @param shape -1 for a variable dimension
   */
  public record TensorInfo(String name, String datatype, List<Long> shape) {
    public TensorInfo {
      shape = List.copyOf(shape);
    }
  }
}
