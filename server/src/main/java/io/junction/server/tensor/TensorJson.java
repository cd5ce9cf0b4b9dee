package io.junction.server.tensor;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.junction.golden.HalfFloats;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A tensor's elements as a flat JSON array, the Open Inference Protocol's REST form, written by jackson-core's
 * streaming generator: this is JSON written for every call (REST answers, payload records), so it goes to UTF-8
 * bytes directly and formats floats with Schubfach rather than JDK 17's slower {@code Float.toString}.
 */
public final class TensorJson {
  /** Deep enough for any tensor's nested rows, shallow enough that no body exhausts a parser. */
  private static final int MAX_NESTING = 64;

  private TensorJson() {}

  /**
   * A generator factory for such JSON, one per owner (it pools buffers): NaN and infinities written and read bare, as
   * Triton and Python's {@code json} do (a model's outputs may hold them, and a client sends back what it got); the
   * target stream neither flushed nor closed by the generator, so that records can be written one after another into a
   * buffered or compressed stream. Its parsers read what clients send: numbers by the fast double parser, arrays and
   * objects nested at most {@value #MAX_NESTING} deep.
   */
  public static JsonFactory newFactory() {
    return JsonFactory.builder()
        .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
        .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
        .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
        .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
        .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
        .build();
  }

  /** Writes the elements, row-major: numbers (half floats widened), booleans, BYTES as UTF-8 strings. */
  public static void writeData(JsonGenerator g, Tensor t) throws IOException {
    g.writeStartArray();
    if (t.dataType() == DataType.BYTES) {
      for (byte[] e : t.elements()) {
        g.writeString(new String(e, StandardCharsets.UTF_8)); // malformed UTF-8 replaced, never passed on
      }
      g.writeEndArray();
      return;
    }
    ByteBuffer d = t.data();
    while (d.hasRemaining()) {
      switch (t.dataType()) {
        case BOOL -> g.writeBoolean(d.get() != 0);
        case INT8 -> g.writeNumber(d.get());
        case UINT8 -> g.writeNumber(d.get() & 0xff);
        case INT16 -> g.writeNumber(d.getShort());
        case UINT16 -> g.writeNumber(d.getShort() & 0xffff);
        case INT32 -> g.writeNumber(d.getInt());
        case UINT32 -> g.writeNumber(Integer.toUnsignedLong(d.getInt()));
        case INT64 -> g.writeNumber(d.getLong());
        case UINT64 -> g.writeNumber(new BigInteger(Long.toUnsignedString(d.getLong())));
        case FP16 -> g.writeNumber(HalfFloats.fromFp16(d.getShort()));
        case BF16 -> g.writeNumber(HalfFloats.fromBf16(d.getShort()));
        case FP32 -> g.writeNumber(d.getFloat());
        case FP64 -> g.writeNumber(d.getDouble());
        default -> throw new IllegalStateException("no JSON form for " + t.dataType());
      }
    }
    g.writeEndArray();
  }
}
