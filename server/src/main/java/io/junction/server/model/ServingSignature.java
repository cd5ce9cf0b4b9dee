package io.junction.server.model;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a served model version accepts and returns, as its effective config says, and the checks a
 * request must pass before anything is allocated for it.
 *
 * @param maxBatchSize 0 when the model has no batch dimension; otherwise the largest first dimension
 *     a request may have
 */
public record ServingSignature(String label, int maxBatchSize, List<ServingTensor> inputs,
    List<ServingTensor> outputs) {
  public ServingSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  public boolean batched() {
    return maxBatchSize > 0;
  }

  /** The shape clients see: {@code [-1, dims...]} for batching models, else {@code dims}. */
  public long[] exposedShape(ServingTensor tensor) {
    if (!batched()) {
      return tensor.dims();
    }
    long[] dims = tensor.dims();
    long[] shape = new long[dims.length + 1];
    shape[0] = Shapes.DYNAMIC;
    System.arraycopy(dims, 0, shape, 1, dims.length);
    return shape;
  }

  public Optional<ServingTensor> input(String name) {
    return named(inputs, name);
  }

  public Optional<ServingTensor> output(String name) {
    return named(outputs, name);
  }

  /** A loop rather than a stream: every request looks its tensors up here. */
  private static Optional<ServingTensor> named(List<ServingTensor> tensors, String name) {
    for (ServingTensor t : tensors) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /**
   * Checks one request input's declared name, datatype and shape.
   *
   * @return the batch size it carries (1 for models without batching)
   * @throws InvalidInputException naming the model, the tensor, what was expected and what came
   */
  public long checkInput(String name, String datatype, long[] shape) {
    ServingTensor expected = input(name).orElseThrow(() -> new InvalidInputException(
        label + ": unknown input '" + name + "'; the model's inputs are " + names(inputs)));
    DataType actual = DataType.fromWireName(datatype).orElseThrow(() -> new InvalidInputException(
        label + ": input '" + name + "' has unknown datatype '" + datatype + "'; expected "
            + expected.dataType().wireName()));
    if (actual != expected.dataType()) {
      throw new InvalidInputException(label + ": input '" + name + "' has datatype " + actual.wireName()
          + ", expected " + expected.dataType().wireName());
    }
    long[] pattern = exposedShape(expected);
    for (long d : shape) {
      if (d < 0) {
        throw new InvalidInputException(label + ": input '" + name + "' has negative dimension in shape "
            + Shapes.format(shape));
      }
    }
    if (!Shapes.matches(pattern, shape)) {
      throw new InvalidInputException(label + ": input '" + name + "' has shape " + Shapes.format(shape)
          + ", expected " + Shapes.format(pattern) + " (-1 is any size)");
    }
    long batch = 1;
    if (batched()) {
      batch = shape[0];
      if (batch < 1 || batch > maxBatchSize) {
        throw new InvalidInputException(label + ": input '" + name + "' has batch size " + batch
            + ", expected 1 to " + maxBatchSize + " (max_batch_size)");
      }
    }
    if (expected.reshaped()) {
      checkReshape(expected, shape);
    }
    return batch;
  }

  /** A reshaped input's rows must fill its reshape, whose one -1 at most their element count sizes. */
  private void checkReshape(ServingTensor expected, long[] shape) {
    long elements;
    try {
      elements = rowElements(shape);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(label + ": input '" + expected.name() + "' has shape " + Shapes.format(shape)
          + ", more elements than a long holds");
    }
    if (Shapes.fill(expected.reshape(), elements) == null) {
      throw new InvalidInputException(label + ": input '" + expected.name() + "' has shape " + Shapes.format(shape)
          + ", " + elements + " elements " + (batched() ? "a row" : "in all") + ", which its reshape "
          + Shapes.format(expected.reshape()) + " (config.pbtxt) cannot hold");
    }
  }

  /**
   * The shape a reshaped tensor has on the other side: {@code dims} (with the batch dimension when batched)
   * laid over {@code from}'s elements, each row's count sizing the one -1 of {@code dims} at most; null when they
   * do not fit.
   */
  long[] reshapedShape(long[] from, long[] dims) {
    if (batched() && from.length == 0) {
      return null;
    }
    long[] row = Shapes.fill(dims, rowElements(from));
    if (row == null || !batched()) {
      return row;
    }
    long[] shape = new long[row.length + 1];
    shape[0] = from[0];
    System.arraycopy(row, 0, shape, 1, row.length);
    return shape;
  }

  /** The elements of one row of a tensor of {@code shape}: all of them when the model does not batch. */
  private long rowElements(long[] shape) {
    return Shapes.elementCount(shape, batched() ? 1 : 0);
  }

  public String inputNames() {
    return names(inputs);
  }

  public String outputNames() {
    return names(outputs);
  }

  private static String names(List<ServingTensor> tensors) {
    return tensors.stream().map(t -> "'" + t.name() + "'").collect(Collectors.joining(", ", "[", "]"));
  }
}
