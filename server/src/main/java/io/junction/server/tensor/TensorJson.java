package io.junction.server.tensor;

import com.google.gson.stream.JsonWriter;
import io.junction.golden.HalfFloats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A tensor's elements as a flat JSON array, the Open Inference Protocol's REST form. */
public final class TensorJson {
  private TensorJson() {}

  /**
   * Writes the elements, row-major: numbers (half floats widened), booleans, BYTES as UTF-8 strings.
   * NaN and infinities need a lenient writer.
   */
  public static void writeData(JsonWriter w, Tensor t) throws IOException {
    w.beginArray();
    if (t.dataType() == DataType.BYTES) {
      for (byte[] e : t.elements()) {
        w.value(new String(e, StandardCharsets.UTF_8));
      }
      w.endArray();
      return;
    }
    ByteBuffer d = t.data();
    while (d.hasRemaining()) {
      switch (t.dataType()) {
        case BOOL -> w.value(d.get() != 0);
        case INT8 -> w.value(d.get());
        case UINT8 -> w.value(d.get() & 0xff);
        case INT16 -> w.value(d.getShort());
        case UINT16 -> w.value(d.getShort() & 0xffff);
        case INT32 -> w.value(d.getInt());
        case UINT32 -> w.value(Integer.toUnsignedLong(d.getInt()));
        case INT64 -> w.value(d.getLong());
        case UINT64 -> w.value(new java.math.BigInteger(Long.toUnsignedString(d.getLong())));
        case FP16 -> w.value((Number) HalfFloats.fromFp16(d.getShort()));
        case BF16 -> w.value((Number) HalfFloats.fromBf16(d.getShort()));
        case FP32 -> w.value((Number) d.getFloat());
        case FP64 -> w.value(d.getDouble());
        default -> throw new IllegalStateException("no JSON form for " + t.dataType());
      }
    }
    w.endArray();
  }
}
