package io.junction.server.inference;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.model.ServedModel;
import io.junction.server.model.ServingSignature;
import io.junction.server.model.ServingTensor;
import io.junction.server.scheduling.InferenceRequest;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
import io.junction.server.tensor.Tensor;
import io.junction.server.telemetry.SpanNames;
import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An {@link InferenceCall} to a validated {@link InferenceRequest} for one model version. Every check
 * that can reject a call runs before its tensors are decoded: names, datatypes, shapes, batch sizes;
 * decoding then checks the sizes of the contents sent against the shapes.
 */
final class RequestValidator {
  /** An hour in microseconds is more than any sane timeout. */
  private static final long MAX_PARAMETER = 3_600_000_000L;

  private RequestValidator() {}

  static InferenceRequest validate(InferenceCall call, ServedModel model, long arrivalNanos, RequestContext context) {
    String label = model.label();
    ServingSignature signature = model.signature();
    List<InputTensor> inputs = call.inputs();
    if (inputs.isEmpty()) {
      throw new InvalidInputException(label + ": the request has no inputs; the model's inputs are "
          + signature.inputNames());
    }
    long batch = -1;
    Set<String> seen = new HashSet<>();
    for (InputTensor input : inputs) {
      if (!seen.add(input.name())) {
        throw new InvalidInputException(label + ": input '" + input.name() + "' appears twice in the request");
      }
      long rows = signature.checkInput(input.name(), input.datatype(), input.shape());
      if (batch >= 0 && rows != batch && signature.batched()) {
        throw new InvalidInputException(label + ": input '" + input.name() + "' has batch size " + rows
            + " but an earlier input has " + batch + "; all inputs must agree");
      }
      batch = rows;
    }
    for (ServingTensor expected : signature.inputs()) {
      if (!expected.optional() && !seen.contains(expected.name())) {
        throw new InvalidInputException(label + ": the request is missing input '" + expected.name()
            + "' (" + expected.dataType().wireName() + ", shape " + Shapes.format(signature.exposedShape(expected))
            + ")");
      }
    }
    List<String> outputs = requestedOutputs(label, call, signature);
    int priority = priority(label, call);
    long queueTimeoutNanos = Math.multiplyExact(integerParameter(label, call, InferenceCall.TIMEOUT_MICROS), 1000L);

    Map<String, Tensor> tensors = new LinkedHashMap<>(inputs.size() * 2);
    for (InputTensor input : inputs) {
      DataType type = DataType.fromWireName(input.datatype()).orElseThrow();
      tensors.put(input.name(), input.payload().decode(label, input.name(), type, input.shape()));
    }
    long rows = Math.max(batch, 1);
    Span span = context.span();
    if (span.isRecording()) {
      StringBuilder shapes = new StringBuilder();
      long bytes = 0;
      for (Tensor t : tensors.values()) {
        shapes.append(shapes.length() == 0 ? "" : " ").append(t.name()).append(Shapes.format(t.shape()));
        bytes += t.dataType().isFixedSize() ? t.unsafeData().remaining() : 0;
      }
      span.setAttribute(SpanNames.INPUT_SHAPES, shapes.toString());
      span.setAttribute(SpanNames.INPUT_BYTES, bytes);
      span.setAttribute(SpanNames.ROWS, rows);
    }
    return new InferenceRequest(call.id(), model, tensors, outputs, rows, arrivalNanos, context.deadlineNanos(),
        context.cancelled(), priority, queueTimeoutNanos, span, call.memory(), context.callerMayRun());
  }

  /**
   * The request's priority, 0 when absent. Any level a uint64 can name is taken (one the model does not have means
   * its default, as in Triton); only a negative int64 is refused.
   */
  private static int priority(String label, InferenceCall call) {
    Parameter p = call.parameters().get(InferenceCall.PRIORITY);
    if (p == null) {
      return 0;
    }
    long value = integerValue(label, p, InferenceCall.PRIORITY);
    if (value < 0 && p.kind() == Parameter.Kind.INT64_PARAM) {
      throw new InvalidInputException(label + ": request parameter 'priority' must be 0 (the model's default "
          + "level) or a level from 1 (the highest), got " + value);
    }
    // A uint64 above Long.MAX_VALUE reads as negative: a level no model has, as is anything above an int.
    return value < 0 || value > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) value;
  }

  /** A non-negative integer request parameter, as Triton's clients send it (int64 or uint64); 0 when absent. */
  private static long integerParameter(String label, InferenceCall call, String name) {
    Parameter p = call.parameters().get(name);
    if (p == null) {
      return 0;
    }
    long value = integerValue(label, p, name);
    // A uint64 above Long.MAX_VALUE reads as negative: out of range either way, and shown as the client sent it.
    if (value < 0 || value > MAX_PARAMETER) {
      throw new InvalidInputException(label + ": request parameter '" + name + "' must be 0.." + MAX_PARAMETER
          + ", got " + (p.kind() == Parameter.Kind.UINT64_PARAM ? Long.toUnsignedString(value) : value));
    }
    return value;
  }

  private static long integerValue(String label, Parameter p, String name) {
    return switch (p.kind()) {
      case INT64_PARAM, UINT64_PARAM -> (Long) p.value();
      default -> throw new InvalidInputException(label + ": request parameter '" + name
          + "' must be an integer (int64_param or uint64_param), got " + p.kind());
    };
  }

  private static List<String> requestedOutputs(String label, InferenceCall call, ServingSignature signature) {
    if (call.requestedOutputs().isEmpty()) {
      List<String> all = new ArrayList<>(signature.outputs().size());
      for (ServingTensor t : signature.outputs()) {
        all.add(t.name());
      }
      return all;
    }
    List<String> names = new ArrayList<>(call.requestedOutputs().size());
    Set<String> seen = new HashSet<>();
    for (RequestedOutput requested : call.requestedOutputs()) {
      String output = requested.name();
      if (signature.output(output).isEmpty()) {
        throw new InvalidInputException(label + ": unknown requested output '" + output
            + "'; the model's outputs are " + signature.outputNames());
      }
      if (!seen.add(output)) {
        throw new InvalidInputException(label + ": output '" + output + "' is requested twice");
      }
      names.add(output);
    }
    return names;
  }
}
