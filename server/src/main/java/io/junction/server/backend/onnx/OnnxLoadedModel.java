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
import io.junction.server.backend.OutputBuffers;
import io.junction.server.backend.TensorSpec;
import io.junction.server.errors.InferenceFailedException;
import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Shapes;
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
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session. ONNX Runtime allows concurrent {@code run} calls on a session.
 *
 * <p>Outputs whose shape the model fixes (but for a dynamic batch dimension) can be written by ONNX Runtime
 * straight into buffers the caller provides, rather than into its own memory and then copied out. Should
 * ONNX Runtime refuse such a buffer (a model whose declared output shape is not what it computes), the run
 * is repeated the ordinary way and this model stops offering buffers.
 */
final class OnnxLoadedModel implements LoadedModel {
  private static final Logger log = LoggerFactory.getLogger(OnnxLoadedModel.class);

  private final String label;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final ModelSignature signature;
  /** The outputs whose shape is known before a run, by name: the ones ONNX Runtime may write into given buffers. */
  private final Map<String, Writable> writable;
  /** Cleared for good the first time ONNX Runtime refuses to write into given buffers. */
  private volatile boolean writesIntoGivenBuffers;
  /** Requests of one model mostly ask for the same outputs: their set is made once, not for every run. */
  private volatile OutputNames lastOutputs = new OutputNames(List.of(), Set.of());

  /** The outputs asked for last, as a list and as the set ONNX Runtime takes. */
  private record OutputNames(List<String> list, Set<String> set) {}

  OnnxLoadedModel(String label, OrtEnvironment environment, OrtSession session, ModelSignature signature) {
    this.label = label;
    this.environment = environment;
    this.session = session;
    this.signature = signature;
    Map<String, Writable> known = new HashMap<>();
    for (TensorSpec spec : signature.outputs()) {
      Writable.of(spec).ifPresent(w -> known.put(spec.name(), w));
    }
    this.writable = Map.copyOf(known);
    this.writesIntoGivenBuffers = !writable.isEmpty();
  }

  /**
   * An output of fixed-size elements whose dimensions the model fixes, but for a dynamic first one, which a
   * batched run fills with its rows.
   */
  private record Writable(DataType type, long[] declared, boolean batchDimension, long elementsPerRow) {
    static Optional<Writable> of(TensorSpec spec) {
      long[] shape = spec.shape();
      if (!spec.dataType().isFixedSize()) {
        return Optional.empty();
      }
      long elements = 1;
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] == Shapes.DYNAMIC && d != 0) {
          return Optional.empty();
        }
        elements *= shape[d] == Shapes.DYNAMIC ? 1 : shape[d];
      }
      return Optional.of(new Writable(spec.dataType(), shape,
          shape.length > 0 && shape[0] == Shapes.DYNAMIC, elements));
    }

    /** Bytes of this output for a run of {@code batchRows} rows (-1: not batched), or -1 when not known. */
    long bytes(long batchRows) {
      if (batchDimension && batchRows < 0) {
        return -1;
      }
      long bytes = elementsPerRow * (batchDimension ? batchRows : 1) * type.byteSize();
      return bytes > 0 && bytes <= Integer.MAX_VALUE ? bytes : -1;
    }

    long[] shape(long batchRows) {
      long[] shape = declared.clone();
      if (batchDimension) {
        shape[0] = batchRows;
      }
      return shape;
    }
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings) {
    return run(inputs, outputs, timings, OutputBuffers.NONE);
  }

  @Override
  public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs, ExecutionTimings timings,
      OutputBuffers buffers) {
    Map<String, OnnxTensor> ortInputs = new HashMap<>(inputs.size() * 2);
    // Made only when a buffer is taken: a run whose outputs are all small allocates nothing for them.
    Map<String, Tensor> given = Map.of();
    Map<String, OnnxTensor> ortGiven = Map.of();
    try {
      long start = System.nanoTime();
      for (Tensor input : inputs.values()) {
        ortInputs.put(input.name(), toOrt(input));
      }
      if (writesIntoGivenBuffers && buffers != OutputBuffers.NONE) {
        for (String name : outputs) {
          Writable w = writable.get(name);
          long bytes = w == null ? -1 : w.bytes(buffers.batchRows());
          ByteBuffer buffer = bytes < 0 ? null : buffers.allocate(name, (int) bytes);
          if (buffer == null) {
            continue;
          }
          if (given.isEmpty()) {
            given = new HashMap<>();
            ortGiven = new HashMap<>();
          }
          long[] shape = w.shape(buffers.batchRows());
          given.put(name, Tensor.fixed(name, w.type(), shape, buffer));
          ortGiven.put(name, OnnxTensor.createTensor(environment, buffer, shape, OnnxTypes.toJavaType(w.type())));
        }
      }
      long created = System.nanoTime();
      timings.recordInput(created - start);
      if (!ortGiven.isEmpty()) {
        OrtSession.Result ran;
        try {
          ran = session.run(ortInputs, without(outputs, ortGiven.keySet()), ortGiven);
        } catch (OrtException refused) {
          // Either the buffers were refused or the run fails anyway: running the ordinary way tells which.
          long again = System.nanoTime();
          OrtSession.Result plain = session.run(ortInputs, new LinkedHashSet<>(outputs));
          writesIntoGivenBuffers = false;
          log.warn("{}: ONNX Runtime would not write outputs {} into buffers shaped as the model declares them ({}); "
              + "they are copied out of its memory from now on", label, ortGiven.keySet(), refused.getMessage());
          return collect(outputs, plain, Map.of(), again, timings);
        }
        return collect(outputs, ran, given, created, timings);
      }
      return collect(outputs, session.run(ortInputs, outputSet(outputs)), Map.of(), created, timings);
    } catch (OrtException e) {
      throw new InferenceFailedException(label + ": ONNX Runtime failed: " + e.getMessage(), e);
    } finally {
      ortInputs.values().forEach(OnnxTensor::close);
      ortGiven.values().forEach(OnnxTensor::close); // ONNX Runtime's handles only: the buffers stay the caller's
    }
  }

  private Set<String> outputSet(List<String> outputs) {
    OutputNames last = lastOutputs;
    if (last.list().equals(outputs)) {
      return last.set();
    }
    OutputNames made = new OutputNames(List.copyOf(outputs), Collections.unmodifiableSet(new LinkedHashSet<>(outputs)));
    lastOutputs = made;
    return made.set();
  }

  /** The outputs in the order asked for: those written into given buffers, the rest read out of {@code result}. */
  private List<Tensor> collect(List<String> outputs, OrtSession.Result ran, Map<String, Tensor> given, long created,
      ExecutionTimings timings) throws OrtException {
    try (OrtSession.Result result = ran) {
      long done = System.nanoTime();
      timings.recordInfer(done - created);
      List<Tensor> produced = new ArrayList<>(outputs.size());
      for (String name : outputs) {
        Tensor written = given.get(name);
        if (written != null) {
          produced.add(written);
          continue;
        }
        OnnxValue value = result.get(name).orElseThrow(() -> new InferenceFailedException(
            label + ": ONNX Runtime produced no output '" + name + "'"));
        produced.add(fromOrt(name, (OnnxTensor) value));
      }
      timings.recordOutput(System.nanoTime() - done);
      return produced;
    }
  }

  private static Set<String> without(List<String> outputs, Set<String> given) {
    Set<String> rest = new LinkedHashSet<>(outputs);
    rest.removeAll(given);
    return rest;
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
