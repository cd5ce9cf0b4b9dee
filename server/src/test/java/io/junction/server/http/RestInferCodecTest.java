package io.junction.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import io.junction.server.tensor.TensorJson;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * JSON data read as the datatype the model declares. UINT64 is covered here rather than through a served model:
 * ONNX Runtime's Java API cannot exchange it (DataTypesTest), but other backends take it, and JSON is how REST
 * clients send its upper half.
 */
class RestInferCodecTest {
  private static final long[] SHAPE = {4};

  @Test
  void unsignedSixtyFourBitIntegersKeepTheirUpperHalf() {
    ByteBuffer data = decode("[0, 9223372036854775807, 9223372036854775808, 18446744073709551615]", DataType.UINT64)
        .data().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(new long[] {data.getLong(0), data.getLong(8), data.getLong(16), data.getLong(24)})
        .containsExactly(0L, Long.MAX_VALUE, Long.MIN_VALUE, -1L);
  }

  @Test
  void integersOutsideUnsignedSixtyFourBitsAreRejectedNamingTheElement() {
    assertThatThrownBy(() -> decode("[0, 1, -1, 2]", DataType.UINT64))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("m:1: input 'x' element 2 is -1, outside the range of UINT64");
    assertThatThrownBy(() -> decode("[0, 1, 2, 18446744073709551616]", DataType.UINT64))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("element 3 is 1.8446744073709552E19, outside the range of UINT64");
    assertThatThrownBy(() -> decode("[0, 1, 2, 9223372036854775808]", DataType.INT64))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("element 3 is 9223372036854775808, outside the range of INT64");
  }

  @Test
  void theUpperHalfOfUnsignedSixtyFourBitsIsANumberForFloatingPointInputs() {
    ByteBuffer data = decode("[18446744073709551615, 9223372036854775808, -1, 0.25]", DataType.FP64)
        .data().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(new double[] {data.getDouble(0), data.getDouble(8), data.getDouble(16), data.getDouble(24)})
        .containsExactly(18446744073709551615.0, 9223372036854775808.0, -1, 0.25);
  }

  private static Tensor decode(String data, DataType type) {
    byte[] body = ("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"" + type + "\",\"shape\":[4],\"data\":" + data + "}]}")
        .getBytes(StandardCharsets.UTF_8);
    RestInferCodec.Decoded decoded = RestInferCodec.decode(TensorJson.newFactory(), "m", "1", body, -1);
    return decoded.call().inputs().get(0).payload().decode("m:1", "x", type, SHAPE);
  }
}
