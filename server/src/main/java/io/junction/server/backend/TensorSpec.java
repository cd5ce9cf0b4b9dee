package io.junction.server.backend;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import java.util.Arrays;
import java.util.Objects;

/**
 * A model input or output as the backend sees it: name, element type and full shape (batch dimension
 * included), with {@link Shapes#DYNAMIC} for sizes the model leaves open.
 */
public record TensorSpec(String name, DataType dataType, long[] shape) {
  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dataType, "dataType");
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec other && name.equals(other.name) && dataType == other.dataType
        && Arrays.equals(shape, other.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dataType, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + ":" + dataType + Shapes.format(shape);
  }
}
