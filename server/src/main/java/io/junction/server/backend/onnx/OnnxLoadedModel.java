package io.junction.server.backend.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.junction.server.backend.ExecutionTimings;
import io.junction.server.backend.LoadedModel;
import io.junction.server.backend.ModelSignature;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** One ONNX Runtime session. ONNX Runtime allows concurrent {@code run} calls on a session. */
final class OnnxLoadedModel implements LoadedModel {
  private final String label;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final ModelSignature signature;

  OnnxLoadedModel(String label, OrtEnvironment environment, OrtSession session, ModelSignature signature) {
    this.label = label;
    this.environment = environment;
    this.session = session;
    this.signature = signature;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
    Map<String, OnnxTensor> ortInputs = new HashMap<>(inputs.size() * 2);
    try {
      long start = System.nanoTime();
      for (Tensor input : inputs.values()) {
        ortInputs.put(input.name(), toOrt(input));
      }
      long created = System.nanoTime();
      timings.recordInput(created - start);
      try (OrtSession.Result result = session.run(ortInputs, new LinkedHashSet<>(outputs))) {
        long ran = System.nanoTime();
        timings.recordInfer(ran - created);
        List<Tensor> produced = new ArrayList<>(outputs.size());
        for (String name : outputs) {
          OnnxValue value = result.get(name).orElseThrow(() -> new InferenceFailedException(
              label + ": ONNX Runtime produced no output '" + name + "'"));
          produced.add(fromOrt(name, (OnnxTensor) value));
        }
        timings.recordOutput(System.nanoTime() - ran);
        return produced;
      }
    } catch (OrtException e) {
      throw new InferenceFailedException(label + ": ONNX Runtime failed: " + e.getMessage(), e);
    } finally {
      ortInputs.values().forEach(OnnxTensor::close);
    }
  }

  private OnnxTensor toOrt(Tensor tensor) throws OrtException {
    if (tensor.dataType() == DataType.BYTES) {
      return OnnxTensor.createTensor(environment, utf8Strings(tensor), tensor.shape());
    }
    ByteBuffer data = tensor.unsafeData();
    if (!data.isDirect()) {
      // Requests decoded by the server are direct already; this is for callers that built heap tensors.
      ByteBuffer direct = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
      direct.put(data.duplicate()).flip();
      data = direct;
    }
    return OnnxTensor.createTensor(environment, data, tensor.shape(), OnnxTypes.toJavaType(tensor.dataType()));
  }

  /** ONNX Runtime's Java API takes string tensors as Java strings, so elements must be UTF-8 text. */
  private String[] utf8Strings(Tensor tensor) {
    List<byte[]> elements = tensor.elements();
    String[] strings = new String[elements.size()];
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    for (int i = 0; i < strings.length; i++) {
      try {
        CharBuffer chars = decoder.decode(ByteBuffer.wrap(elements.get(i)));
        strings[i] = chars.toString();
      } catch (CharacterCodingException e) {
        throw new InvalidInputException(label + ": input '" + tensor.name() + "' element " + i
            + " is not valid UTF-8; this model's string tensors hold text");
      }
    }
    return strings;
  }

  private Tensor fromOrt(String name, OnnxTensor value) throws OrtException {
    TensorInfo info = value.getInfo();
    long[] shape = info.getShape();
    DataType type = OnnxTypes.toDataType(info.onnxType).orElseThrow(() -> new InferenceFailedException(
        label + ": output '" + name + "' has type " + OnnxTypes.onnxName(info.onnxType)
            + ", which ONNX Runtime's Java API cannot read"));
    if (type == DataType.BYTES) {
      List<byte[]> elements = new ArrayList<>();
      flattenStrings(value.getValue(), elements);
      return Tensor.bytes(name, shape, elements);
    }
    // getByteBuffer copies the output out of ONNX Runtime's memory once, in native (little-endian) order.
    return Tensor.fixed(name, type, shape, value.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  private static void flattenStrings(Object value, List<byte[]> into) {
    if (value instanceof String s) {
      into.add(s.getBytes(StandardCharsets.UTF_8));
    } else if (value != null && value.getClass().isArray()) {
      int n = Array.getLength(value);
      for (int i = 0; i < n; i++) {
        flattenStrings(Array.get(value, i), into);
      }
    } else {
      throw new InferenceFailedException("unexpected string tensor element " + value);
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(label + ": cannot close ONNX Runtime session", e);
    }
  }
}
