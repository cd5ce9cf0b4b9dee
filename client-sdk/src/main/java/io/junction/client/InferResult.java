package io.junction.client;

import io.grpc.Metadata;
import io.junction.proto.inference.InferTensorContents;
import io.junction.proto.inference.ModelInferResponse;
import io.junction.proto.inference.ModelInferResponse.InferOutputTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A response with typed accessors for its outputs. Reads raw contents (what Junction sends) and also
 * typed contents, so it works against any Open Inference Protocol server.
 */
public final class InferResult {
  /** The trace id Junction returns in response metadata. */
  public static final Metadata.Key<String> TRACE_ID = Metadata.Key.of("x-trace-id", Metadata.ASCII_STRING_MARSHALLER);

  private final ModelInferResponse response;
  private final Metadata headers;

  InferResult(ModelInferResponse response, Metadata headers) {
    this.response = response;
    this.headers = headers == null ? new Metadata() : headers;
  }

  /** A response header (gRPC metadata), e.g. the variant of a route; empty if absent. */
  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER)));
  }

  /** The id of the server's trace of this call, when the server traces. */
  /** The route that served the call, when the model name was a route (on a stream too). */
  public Optional<String> route() {
    return header("x-junction-route").or(() -> parameter("junction_route"));
  }

  /** The route's variant that served the call (on a stream too). */
  public Optional<String> variant() {
    return header(InferRequest.VARIANT_HEADER).or(() -> parameter("junction_variant"));
  }

  /** Streamed answers carry the route and variant as response parameters, having no headers of their own. */
  private Optional<String> parameter(String name) {
    var p = response.getParametersMap().get(name);
    return p == null || p.getStringParam().isEmpty() ? Optional.empty() : Optional.of(p.getStringParam());
  }

  public Optional<String> traceId() {
    return Optional.ofNullable(headers.get(TRACE_ID));
  }

  public String modelName() {
    return response.getModelName();
  }

  public String modelVersion() {
    return response.getModelVersion();
  }

  public String id() {
    return response.getId();
  }

  public List<String> outputNames() {
    return response.getOutputsList().stream().map(InferOutputTensor::getName).toList();
  }

  public long[] shape(String output) {
    return tensor(output).getShapeList().stream().mapToLong(Long::longValue).toArray();
  }

  public Datatype datatype(String output) {
    return Datatype.valueOf(tensor(output).getDatatype());
  }

  public float[] asFloats(String output) {
    ByteBuffer raw = raw(output, Datatype.FP32);
    if (raw == null) {
      List<Float> typed = tensor(output).getContents().getFp32ContentsList();
      float[] out = new float[typed.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = typed.get(i);
      }
      return out;
    }
    float[] out = new float[raw.remaining() / 4];
    raw.asFloatBuffer().get(out);
    return out;
  }

  public double[] asDoubles(String output) {
    ByteBuffer raw = raw(output, Datatype.FP64);
    if (raw == null) {
      return tensor(output).getContents().getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
    }
    double[] out = new double[raw.remaining() / 8];
    raw.asDoubleBuffer().get(out);
    return out;
  }

  public int[] asInts(String output) {
    ByteBuffer raw = raw(output, Datatype.INT32);
    if (raw == null) {
      return tensor(output).getContents().getIntContentsList().stream().mapToInt(Integer::intValue).toArray();
    }
    int[] out = new int[raw.remaining() / 4];
    raw.asIntBuffer().get(out);
    return out;
  }

  public long[] asLongs(String output) {
    ByteBuffer raw = raw(output, Datatype.INT64);
    if (raw == null) {
      return tensor(output).getContents().getInt64ContentsList().stream().mapToLong(Long::longValue).toArray();
    }
    long[] out = new long[raw.remaining() / 8];
    raw.asLongBuffer().get(out);
    return out;
  }

  public boolean[] asBooleans(String output) {
    ByteBuffer raw = raw(output, Datatype.BOOL);
    if (raw == null) {
      List<Boolean> typed = tensor(output).getContents().getBoolContentsList();
      boolean[] out = new boolean[typed.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = typed.get(i);
      }
      return out;
    }
    boolean[] out = new boolean[raw.remaining()];
    for (int i = 0; i < out.length; i++) {
      out[i] = raw.get() != 0;
    }
    return out;
  }

  /** The output's raw little-endian bytes, for any fixed-size datatype (UINT8 pixels, FP16, ...). */
  public byte[] asRawBytes(String output) {
    int index = index(output);
    if (index >= response.getRawOutputContentsCount()) {
      throw new IllegalStateException("output '" + output + "' came as typed contents, not raw");
    }
    return response.getRawOutputContents(index).toByteArray();
  }

  /** BYTES elements. */
  public List<byte[]> asByteStrings(String output) {
    ByteBuffer raw = raw(output, Datatype.BYTES);
    List<byte[]> out = new ArrayList<>();
    if (raw == null) {
      InferTensorContents contents = tensor(output).getContents();
      contents.getBytesContentsList().forEach(b -> out.add(b.toByteArray()));
      return out;
    }
    while (raw.hasRemaining()) {
      byte[] e = new byte[raw.getInt()];
      raw.get(e);
      out.add(e);
    }
    return out;
  }

  /** BYTES elements decoded as UTF-8. */
  public List<String> asStrings(String output) {
    return asByteStrings(output).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }

  /** The response as received. */
  public ModelInferResponse proto() {
    return response;
  }

  private ByteBuffer raw(String output, Datatype expected) {
    InferOutputTensor t = tensor(output);
    if (!t.getDatatype().equals(expected.name())) {
      throw new IllegalStateException("output '" + output + "' is " + t.getDatatype() + ", not " + expected);
    }
    int index = index(output);
    if (index >= response.getRawOutputContentsCount()) {
      return null;
    }
    return response.getRawOutputContents(index).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private InferOutputTensor tensor(String output) {
    return response.getOutputs(index(output));
  }

  private int index(String output) {
    for (int i = 0; i < response.getOutputsCount(); i++) {
      if (response.getOutputs(i).getName().equals(output)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no output '" + output + "' in the response; it has " + outputNames());
  }
}
