package io.junction.server.grpc;

import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferRequest.InferInputTensor;
import io.junction.proto.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.model.ServedModel;
import io.junction.server.model.ServingSignature;
import io.junction.server.model.ServingTensor;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.junction.server.telemetry.SpanNames;
import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * ModelInferRequest to a validated domain {@link InferenceRequest}. Every check that can reject a
 * request runs before its tensors are copied: names, datatypes, shapes, batch sizes and the sizes of
 * the contents sent.
 */
final class InferRequestDecoder {
  /** Triton's request parameter for the priority level (1 is highest, 0 the model's default). */
  static final String PRIORITY = "priority";
  /** Triton's request parameter for the queue timeout, in microseconds. */
  static final String TIMEOUT_MICROS = "timeout";
  /** An hour in microseconds is more than any sane timeout; also bounds priorities. */
  private static final long MAX_PARAMETER = 3_600_000_000L;

  private InferRequestDecoder() {}

  static InferenceRequest decode(ModelInferRequest request, ServedModel model, long arrivalNanos, long deadlineNanos,
      BooleanSupplier cancelled, Span span) {
    String label = model.label();
    ServingSignature signature = model.signature();
    int inputCount = request.getInputsCount();
    if (inputCount == 0) {
      throw new InvalidInputException(label + ": the request has no inputs; the model's inputs are "
          + signature.inputNames());
    }
    boolean raw = request.getRawInputContentsCount() > 0;
    if (raw && request.getRawInputContentsCount() != inputCount) {
      throw new InvalidInputException(label + ": the request has " + inputCount + " inputs but "
          + request.getRawInputContentsCount() + " raw_input_contents; send one per input, in order");
    }

    long batch = -1;
    Set<String> seen = new HashSet<>();
    for (InferInputTensor input : request.getInputsList()) {
      if (!seen.add(input.getName())) {
        throw new InvalidInputException(label + ": input '" + input.getName() + "' appears twice in the request");
      }
      if (raw && input.hasContents()) {
        throw new InvalidInputException(label + ": input '" + input.getName()
            + "' has typed contents while the request uses raw_input_contents; use one or the other for all inputs");
      }
      long rows = signature.checkInput(input.getName(), input.getDatatype(), toArray(input.getShapeList()));
      if (batch >= 0 && rows != batch && signature.batched()) {
        throw new InvalidInputException(label + ": input '" + input.getName() + "' has batch size " + rows
            + " but an earlier input has " + batch + "; all inputs must agree");
      }
      batch = rows;
    }
    for (ServingTensor expected : signature.inputs()) {
      if (!expected.optional() && !seen.contains(expected.name())) {
        throw new InvalidInputException(label + ": the request is missing input '" + expected.name()
            + "' (" + expected.dataType().wireName() + ", shape " + io.junction.server.tensor.Shapes.format(
                signature.exposedShape(expected)) + ")");
      }
    }
    List<String> outputs = requestedOutputs(label, request, signature);

    Map<String, Tensor> tensors = new LinkedHashMap<>(inputCount * 2);
    for (int i = 0; i < inputCount; i++) {
      InferInputTensor input = request.getInputs(i);
      DataType type = DataType.fromWireName(input.getDatatype()).orElseThrow();
      long[] shape = toArray(input.getShapeList());
      Tensor tensor = raw
          ? TensorDecoder.fromRaw(label, input.getName(), type, shape, request.getRawInputContents(i))
          : TensorDecoder.fromTyped(label, input.getName(), type, shape, input.getContents());
      tensors.put(input.getName(), tensor);
    }
    if (span.isRecording()) {
      StringBuilder shapes = new StringBuilder();
      long bytes = 0;
      for (InferInputTensor input : request.getInputsList()) {
        shapes.append(shapes.length() == 0 ? "" : " ").append(input.getName()).append(input.getShapeList());
      }
      for (int i = 0; i < request.getRawInputContentsCount(); i++) {
        bytes += request.getRawInputContents(i).size();
      }
      span.setAttribute(SpanNames.INPUT_SHAPES, shapes.toString());
      span.setAttribute(SpanNames.INPUT_BYTES, bytes);
      span.setAttribute(SpanNames.ROWS, Math.max(batch, 1));
    }
    return new InferenceRequest(request.getId(), model, tensors, outputs, Math.max(batch, 1), arrivalNanos,
        deadlineNanos, cancelled, (int) Math.min(Integer.MAX_VALUE, parameter(label, request, PRIORITY)),
        Math.multiplyExact(parameter(label, request, TIMEOUT_MICROS), 1000L), span);
  }

  /** A non-negative integer request parameter, as Triton's clients send it (int64 or uint64); 0 when absent. */
  private static long parameter(String label, ModelInferRequest request, String name) {
    InferParameter p = request.getParametersMap().get(name);
    if (p == null) {
      return 0;
    }
    long value = switch (p.getParameterChoiceCase()) {
      case INT64_PARAM -> p.getInt64Param();
      case UINT64_PARAM -> p.getUint64Param() < 0 ? -1 : p.getUint64Param();
      default -> throw new InvalidInputException(label + ": request parameter '" + name
          + "' must be an integer (int64_param or uint64_param), got " + p.getParameterChoiceCase());
    };
    if (value < 0 || value > MAX_PARAMETER) {
      throw new InvalidInputException(label + ": request parameter '" + name + "' must be 0.." + MAX_PARAMETER
          + ", got " + value);
    }
    return value;
  }

  private static List<String> requestedOutputs(String label, ModelInferRequest request, ServingSignature signature) {
    if (request.getOutputsCount() == 0) {
      return signature.outputs().stream().map(ServingTensor::name).toList();
    }
    List<String> names = new ArrayList<>(request.getOutputsCount());
    Set<String> seen = new HashSet<>();
    for (InferRequestedOutputTensor output : request.getOutputsList()) {
      if (signature.output(output.getName()).isEmpty()) {
        throw new InvalidInputException(label + ": unknown requested output '" + output.getName()
            + "'; the model's outputs are " + signature.outputNames());
      }
      if (!seen.add(output.getName())) {
        throw new InvalidInputException(label + ": output '" + output.getName() + "' is requested twice");
      }
      names.add(output.getName());
    }
    return names;
  }

  private static long[] toArray(List<Long> shape) {
    long[] a = new long[shape.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = shape.get(i);
    }
    return a;
  }
}
