package io.junction.server.grpc;

import io.junction.proto.inference.InferParameter;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferRequest.InferInputTensor;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.inference.InferenceCall;
import io.junction.server.inference.InputTensor;
import io.junction.server.inference.Parameter;
import io.junction.server.inference.RequestedOutput;
import io.junction.server.inference.TensorPayload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code ModelInferRequest} to a transport-neutral {@link InferenceCall}. Nothing is copied: raw
 * contents stay the bytes protobuf holds (or views of the pooled buffer a request of 64 KiB or more was
 * read into) until the pipeline, having validated the call against the model, asks for the tensors. Structural faults of the message (raw and typed contents mixed, a raw
 * count that does not match the inputs) surface then too, with the model's name in the message.
 */
final class InferCallDecoder {
  private InferCallDecoder() {}

  static InferenceCall decode(ReceivedRequest.Parsed parsed) {
    ModelInferRequest request = parsed.request();
    int inputCount = request.getInputsCount();
    boolean raw = parsed.rawCount() > 0;
    List<InputTensor> inputs = new ArrayList<>(inputCount);
    for (int i = 0; i < inputCount; i++) {
      InferInputTensor input = request.getInputs(i);
      inputs.add(new InputTensor(input.getName(), input.getDatatype(), shape(input), payload(parsed, i, raw)));
    }
    List<RequestedOutput> outputs = request.getOutputsCount() == 0 ? List.of() : new ArrayList<>(request.getOutputsCount());
    for (int i = 0; i < request.getOutputsCount(); i++) {
      ModelInferRequest.InferRequestedOutputTensor output = request.getOutputs(i);
      outputs.add(new RequestedOutput(output.getName(), parameters(output.getParametersMap())));
    }
    return new InferenceCall(request.getId(), request.getModelName(), request.getModelVersion(), inputs, outputs,
        parameters(request.getParametersMap()), parsed.memory());
  }

  private static TensorPayload payload(ReceivedRequest.Parsed parsed, int index, boolean raw) {
    ModelInferRequest request = parsed.request();
    InferInputTensor input = request.getInputs(index);
    if (!raw) {
      return (label, name, type, shape) -> TensorDecoder.fromTyped(label, name, type, shape, input.getContents());
    }
    int inputCount = request.getInputsCount();
    int rawCount = parsed.rawCount();
    if (rawCount != inputCount) {
      return (label, name, type, shape) -> {
        throw new InvalidInputException(label + ": the request has " + inputCount + " inputs but " + rawCount
            + " raw_input_contents; send one per input, in order");
      };
    }
    if (input.hasContents()) {
      return (label, name, type, shape) -> {
        throw new InvalidInputException(label + ": input '" + name + "' has typed contents while the request uses "
            + "raw_input_contents; use one or the other for all inputs");
      };
    }
    ByteBuffer contents = parsed.raw(index);
    return (label, name, type, shape) -> TensorDecoder.fromRaw(label, name, type, shape, contents);
  }

  private static long[] shape(InferInputTensor input) {
    long[] shape = new long[input.getShapeCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = input.getShape(i);
    }
    return shape;
  }

  private static Map<String, Parameter> parameters(Map<String, InferParameter> parameters) {
    if (parameters.isEmpty()) {
      return Map.of();
    }
    Map<String, Parameter> out = new HashMap<>(parameters.size() * 2);
    parameters.forEach((name, p) -> {
      Parameter value = switch (p.getParameterChoiceCase()) {
        case BOOL_PARAM -> Parameter.of(p.getBoolParam());
        case INT64_PARAM -> Parameter.int64(p.getInt64Param());
        case UINT64_PARAM -> Parameter.uint64(p.getUint64Param());
        case DOUBLE_PARAM -> Parameter.of(p.getDoubleParam());
        case STRING_PARAM -> Parameter.of(p.getStringParam());
        case PARAMETERCHOICE_NOT_SET -> null;
      };
      if (value != null) {
        out.put(name, value);
      }
    });
    return out;
  }
}
