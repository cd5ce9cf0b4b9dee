package io.junction.server.inference;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.model.ServedModel;
import io.junction.server.model.ServingSignature;
import io.junction.server.model.ServingTensor;
import io.junction.server.scheduling.InferenceResult;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Triton's classification extension: an output requested with the parameter {@code classification: N} is answered
 * as its N highest-valued classes instead of its values, a BYTES tensor of shape [batch, N] (or [N] for a model
 * without batching) whose elements read {@code "<value>:<index>"}, or {@code "<value>:<index>:<label>"} when the
 * output's config names a {@code label_filename} with a line for that class; highest first, lower index first among
 * equals. N beyond the number of classes gives them all.
 */
final class OutputClassification {
  static final String CLASSIFICATION = "classification";
  /** More classes than any classifier has; bounds the answer a client can ask for. */
  private static final long MAX_CLASSES = 1 << 20;

  private OutputClassification() {}

  /**
   * How many classes each classified output of the call asks for, checked against the model: a positive integer,
   * for an output of numbers. Empty (the common case, at the cost of a look at each requested output) when none is.
   */
  static Map<String, Integer> requested(String label, InferenceCall call, ServingSignature signature) {
    Map<String, Integer> counts = Map.of();
    for (RequestedOutput output : call.requestedOutputs()) {
      Parameter p = output.parameters().get(CLASSIFICATION);
      if (p == null) {
        continue;
      }
      long n = switch (p.kind()) {
        case INT64_PARAM, UINT64_PARAM -> (Long) p.value();
        default -> throw new InvalidInputException(label + ": output '" + output.name() + "': " + CLASSIFICATION
            + " must be an integer (the number of classes to return), got " + p.kind());
      };
      if (n < 1 || n > MAX_CLASSES) {
        throw new InvalidInputException(label + ": output '" + output.name() + "': " + CLASSIFICATION + " must be 1.."
            + MAX_CLASSES + " classes, got " + n);
      }
      DataType type = signature.output(output.name()).map(ServingTensor::dataType).orElse(null);
      if (type == DataType.BYTES) {
        throw new InvalidInputException(label + ": output '" + output.name() + "' is BYTES; only outputs of numbers "
            + "can be answered as classes");
      }
      if (counts.isEmpty()) {
        counts = new HashMap<>(4);
      }
      counts.put(output.name(), (int) n);
    }
    return counts;
  }

  /** The result with each output named in {@code counts} replaced by its classes. */
  static InferenceResult apply(InferenceResult result, Map<String, Integer> counts, ServedModel model) {
    List<Tensor> outputs = new ArrayList<>(result.outputs().size());
    for (Tensor t : result.outputs()) {
      Integer n = counts.get(t.name());
      outputs.add(n == null ? t : classes(t, n, model.signature().batched(), model.labels(t.name())));
    }
    return new InferenceResult(result.id(), result.modelName(), result.modelVersion(), outputs, result.queueNanos(),
        result.computeInputNanos(), result.computeInferNanos(), result.computeOutputNanos(), result.outputsMemory());
  }

  /**
   * The top {@code n} classes of each row of {@code scores} (each batch entry's values, flattened).
   *
   * @param labels the classes' labels, in class order (classes beyond them go without one)
   */
  static Tensor classes(Tensor scores, int n, boolean batched, List<String> labels) {
    int elements = Math.toIntExact(scores.elementCount());
    int rows = batched && scores.rank() > 0 ? Math.toIntExact(scores.dim(0)) : 1;
    int perRow = rows == 0 ? 0 : elements / rows;
    int k = Math.min(n, perRow);
    List<byte[]> answer = new ArrayList<>(rows * k);
    Integer[] order = new Integer[perRow];
    double[] values = new double[perRow];
    for (int row = 0; row < rows; row++) {
      for (int i = 0; i < perRow; i++) {
        values[i] = scores.number(row * perRow + i);
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a])); // stable: lower index first among equals
      for (int j = 0; j < k; j++) {
        int index = order[j];
        String text = format(scores.dataType(), values[index]) + ":" + index;
        answer.add((index < labels.size() ? text + ":" + labels.get(index) : text).getBytes(StandardCharsets.UTF_8));
      }
    }
    long[] shape = batched ? new long[] {rows, k} : new long[] {k};
    return Tensor.bytes(scores.name(), shape, answer);
  }

  /** A value as its datatype writes it: integers without a fraction, floats in their shortest form. */
  private static String format(DataType type, double value) {
    return switch (type) {
      case FP32, FP16, BF16 -> Float.toString((float) value);
      case FP64 -> Double.toString(value);
      case BOOL -> value != 0 ? "true" : "false";
      case UINT64 -> value >= 0x1p63 ? new BigDecimal(value).toBigInteger().toString() : Long.toString((long) value);
      default -> Long.toString((long) value);
    };
  }
}
