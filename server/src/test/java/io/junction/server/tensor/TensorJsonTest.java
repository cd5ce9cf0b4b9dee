package io.junction.server.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import io.junction.golden.HalfFloats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class TensorJsonTest {
  @Test
  void floatsComeOutShortestAndReadBackExactly() throws IOException {
    float[] values = {0.1f, 1.0E-5f, 3.4028235E38f, -0.0f, 2.9032676f, 1.4E-45f, 16777216f};
    String json = json(fixed(DataType.FP32, values.length, b -> {
      for (float v : values) {
        b.putFloat(v);
      }
    }));
    assertThat(json).isEqualTo("[0.1,1.0E-5,3.4028235E38,-0.0,2.9032676,1.4E-45,1.6777216E7]");
    String[] parts = json.substring(1, json.length() - 1).split(",");
    for (int i = 0; i < values.length; i++) {
      assertThat(Float.floatToRawIntBits(Float.parseFloat(parts[i]))).as(parts[i])
          .isEqualTo(Float.floatToRawIntBits(values[i]));
    }
  }

  @Test
  void nanAndInfinitiesAreWrittenBareAsTritonDoes() throws IOException {
    assertThat(json(fixed(DataType.FP32, 3, b -> b.putFloat(Float.NaN).putFloat(Float.POSITIVE_INFINITY)
        .putFloat(Float.NEGATIVE_INFINITY)))).isEqualTo("[NaN,Infinity,-Infinity]");
    assertThat(json(fixed(DataType.FP64, 2, b -> b.putDouble(Double.NaN).putDouble(0.1))))
        .isEqualTo("[NaN,0.1]");
  }

  @Test
  void unsignedIntegersKeepTheirFullRange() throws IOException {
    assertThat(json(fixed(DataType.UINT64, 1, b -> b.putLong(-1)))).isEqualTo("[18446744073709551615]");
    assertThat(json(fixed(DataType.UINT32, 1, b -> b.putInt(-1)))).isEqualTo("[4294967295]");
    assertThat(json(fixed(DataType.UINT16, 1, b -> b.putShort((short) -1)))).isEqualTo("[65535]");
    assertThat(json(fixed(DataType.UINT8, 2, b -> b.put((byte) -1).put((byte) 7)))).isEqualTo("[255,7]");
    assertThat(json(fixed(DataType.INT8, 1, b -> b.put((byte) -128)))).isEqualTo("[-128]");
    assertThat(json(fixed(DataType.INT64, 1, b -> b.putLong(Long.MIN_VALUE)))).isEqualTo("[" + Long.MIN_VALUE + "]");
  }

  @Test
  void halfFloatsAreWidenedAndBooleansStayBooleans() throws IOException {
    assertThat(json(fixed(DataType.FP16, 2, b -> b.putShort(HalfFloats.toFp16(1.5f)).putShort(HalfFloats.toFp16(-2f)))))
        .isEqualTo("[1.5,-2.0]");
    assertThat(json(fixed(DataType.BF16, 1, b -> b.putShort(HalfFloats.toBf16(0.5f))))).isEqualTo("[0.5]");
    assertThat(json(fixed(DataType.BOOL, 2, b -> b.put((byte) 1).put((byte) 0)))).isEqualTo("[true,false]");
  }

  @Test
  void bytesAreEscapedStringsAndMalformedUtf8IsReplaced() throws IOException {
    Tensor t = Tensor.bytes("s", new long[] {3}, List.of("a\"b\n".getBytes(StandardCharsets.UTF_8),
        "é".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xff}));
    assertThat(json(t)).isEqualTo("[\"a\\\"b\\n\",\"é\",\"\uFFFD\"]");
  }

  private static Tensor fixed(DataType type, int count, Consumer<ByteBuffer> fill) {
    ByteBuffer data = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(data);
    return Tensor.fixed("t", type, new long[] {count}, data.flip());
  }

  private static String json(Tensor t) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = TensorJson.newFactory().createGenerator(out)) {
      TensorJson.writeData(g, t);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
