package io.junction.server.model;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import java.util.Arrays;
import java.util.Objects;

/**
 * An input or output as clients see it: config.pbtxt's name, type and {@code dims}, which exclude the
 * batch dimension when the model batches.
 *
 * @param reshape config.pbtxt's {@code reshape.shape}, the same row-major elements as the model file takes or makes
 *     them (batch dimension excluded too), when it differs from {@code dims}; null when the tensor is not reshaped
 */
public record ServingTensor(String name, DataType dataType, long[] dims, boolean optional, long[] reshape) {
  public ServingTensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dataType, "dataType");
    dims = dims.clone();
    reshape = reshape == null ? null : reshape.clone();
  }

  public ServingTensor(String name, DataType dataType, long[] dims, boolean optional) {
    this(name, dataType, dims, optional, null);
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  @Override
  public long[] reshape() {
    return reshape == null ? null : reshape.clone();
  }

  public boolean reshaped() {
    return reshape != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServingTensor t && name.equals(t.name) && dataType == t.dataType
        && Arrays.equals(dims, t.dims) && optional == t.optional && Arrays.equals(reshape, t.reshape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dataType, Arrays.hashCode(dims), optional, Arrays.hashCode(reshape));
  }

  @Override
  public String toString() {
    return name + ":" + dataType + Shapes.format(dims) + (reshape == null ? "" : " reshaped " + Shapes.format(reshape));
  }
}
