package io.junction.server.model;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import java.util.Arrays;
import java.util.Objects;

/**
 * An input or output as clients see it: config.pbtxt's name, type and {@code dims}, which exclude the
 * batch dimension when the model batches.
 */
public record ServingTensor(String name, DataType dataType, long[] dims, boolean optional) {
  public ServingTensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dataType, "dataType");
    dims = dims.clone();
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServingTensor t && name.equals(t.name) && dataType == t.dataType
        && Arrays.equals(dims, t.dims) && optional == t.optional;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dataType, Arrays.hashCode(dims), optional);
  }

  @Override
  public String toString() {
    return name + ":" + dataType + Shapes.format(dims);
  }
}
