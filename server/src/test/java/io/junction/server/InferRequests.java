package io.junction.server;

import com.google.protobuf.ByteString;
import io.junction.proto.inference.ModelInferRequest.InferInputTensor;
import io.junction.proto.inference.ModelInferRequest;
import io.junction.proto.inference.ModelInferResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds ModelInferRequests and reads responses the way a plain protocol client does. */
public final class InferRequests {
  private InferRequests() {}

  public static InferInputTensor.Builder input(String name, String datatype, long... shape) {
    InferInputTensor.Builder b = InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
    for (long d : shape) {
      b.addShape(d);
    }
    return b;
  }

  public static ByteString fp32(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return ByteString.copyFrom(b.array());
  }

  public static ByteString bytesRaw(String... elements) {
    ByteString.Output out = ByteString.newOutput();
    for (String e : elements) {
      byte[] data = e.getBytes(StandardCharsets.UTF_8);
      ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(data.length);
      out.write(len.array(), 0, 4);
      out.write(data, 0, data.length);
    }
    return out.toByteString();
  }

  /** A request with one raw FP32 input. */
  public static ModelInferRequest rawFp32(String model, String version, String input, float[] data, long... shape) {
    return ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version)
        .addInputs(input(input, "FP32", shape)).addRawInputContents(fp32(data)).build();
  }

  public static float[] floats(ModelInferResponse response, int output) {
    ByteBuffer b = response.getRawOutputContents(output).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  public static List<String> strings(ModelInferResponse response, int output) {
    ByteBuffer b = response.getRawOutputContents(output).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ArrayList<String> out = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] e = new byte[b.getInt()];
      b.get(e);
      out.add(new String(e, StandardCharsets.UTF_8));
    }
    return out;
  }

  /** Deterministic inputs that exercise both signs, so relu matters. */
  public static float[] ramp(int n, float scale) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = ((i * 7919) % 23 - 11) * scale;
    }
    return x;
  }
}
