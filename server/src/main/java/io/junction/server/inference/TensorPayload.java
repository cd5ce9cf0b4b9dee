package io.junction.server.inference;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;

/**
 * The contents of one input as the transport received them, not yet turned into a {@link Tensor}.
 * The pipeline checks names, datatypes and shapes against the model first, and only then asks for
 * the tensor, so a request that fails validation never makes the server allocate anything for it.
 */
@FunctionalInterface
public interface TensorPayload {
  /**
   * The tensor of the given, already validated, datatype and shape.
   *
   * @param label the model version, for messages
   * @throws InvalidInputException when the contents do not match the shape
   */
  Tensor decode(String label, String name, DataType type, long[] shape);
}
