package io.junction.golden;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One tensor of a golden file in the Open Inference Protocol's raw form: elements row-major and
 * little-endian; BYTES elements each preceded by its length as a 4-byte little-endian integer. The
 * datatype is the protocol's name ({@code FP32}, {@code INT64}, {@code BYTES} ...).
 */
public final class GoldenTensor {
  private static final Map<String, Integer> ELEMENT_BYTES = Map.ofEntries(Map.entry("BOOL", 1), Map.entry("INT8", 1),
      Map.entry("UINT8", 1), Map.entry("INT16", 2), Map.entry("UINT16", 2), Map.entry("FP16", 2), Map.entry("BF16", 2),
      Map.entry("INT32", 4), Map.entry("UINT32", 4), Map.entry("FP32", 4), Map.entry("INT64", 8),
      Map.entry("UINT64", 8), Map.entry("FP64", 8), Map.entry("BYTES", 0));

  private final String name;
  private final String datatype;
  private final long[] shape;
  private final byte[] raw;

  private GoldenTensor(String name, String datatype, long[] shape, byte[] raw) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape;
    this.raw = raw;
  }

  /**
   * @param raw the elements in raw form; kept, not copied: the caller hands it over
   * @throws IllegalArgumentException for an unknown datatype, a negative dimension, or contents whose
   *     size does not match the shape
   */
  public static GoldenTensor of(String name, String datatype, long[] shape, byte[] raw) {
    Integer size = ELEMENT_BYTES.get(datatype);
    if (size == null) {
      throw new IllegalArgumentException("tensor '" + name + "' has unknown datatype '" + datatype + "'; expected one of "
          + new TreeSet<>(ELEMENT_BYTES.keySet()));
    }
    long count = elementCount(name, shape);
    if (size > 0 && count * size != raw.length) {
      throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " needs "
          + count * size + " bytes of " + datatype + ", has " + raw.length);
    }
    GoldenTensor t = new GoldenTensor(name, datatype, shape.clone(), raw);
    if (size == 0 && t.elements().size() != count) {
      throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " has "
          + t.elements().size() + " BYTES elements, expected " + count);
    }
    return t;
  }

  /** A BYTES tensor of these elements. */
  public static GoldenTensor ofStrings(String name, long[] shape, List<byte[]> elements) {
    int total = 0;
    for (byte[] e : elements) {
      total = Math.addExact(total, 4 + e.length);
    }
    ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    elements.forEach(e -> b.putInt(e.length).put(e));
    return of(name, "BYTES", shape, b.array());
  }

  static long elementCount(String name, long[] shape) {
    long count = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in " + Arrays.toString(shape));
      }
      count = Math.multiplyExact(count, d);
    }
    return count;
  }

  /** Bytes per element of a fixed-size datatype; 0 for BYTES; -1 when the datatype is unknown. */
  public static int elementBytes(String datatype) {
    return ELEMENT_BYTES.getOrDefault(datatype, -1);
  }

  public String name() {
    return name;
  }

  public String datatype() {
    return datatype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public long elementCount() {
    return elementCount(name, shape);
  }

  public boolean isBytes() {
    return datatype.equals("BYTES");
  }

  /** The raw contents, read-only and little-endian. */
  public ByteBuffer data() {
    return ByteBuffer.wrap(raw).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The elements of a BYTES tensor. */
  public List<byte[]> elements() {
    if (!isBytes()) {
      throw new IllegalStateException("tensor '" + name + "' is " + datatype + ", not BYTES");
    }
    List<byte[]> out = new ArrayList<>();
    ByteBuffer b = data();
    while (b.hasRemaining()) {
      if (b.remaining() < 4) {
        throw new IllegalArgumentException("tensor '" + name + "': BYTES contents end inside a length prefix");
      }
      int length = b.getInt();
      if (length < 0 || length > b.remaining()) {
        throw new IllegalArgumentException("tensor '" + name + "': a BYTES element claims " + Integer.toUnsignedLong(length)
            + " bytes, " + b.remaining() + " remain");
      }
      byte[] e = new byte[length];
      b.get(e);
      out.add(e);
    }
    return out;
  }

  /** The elements of a numeric or BOOL tensor as doubles (UINT64 above 2^63 and INT64 beyond 2^53 lose digits). */
  public double[] numbers() {
    return numbers(datatype, data());
  }

  /** Elements in raw little-endian form as doubles, e.g. a server's or a client's output buffer. */
  public static double[] numbers(String datatype, ByteBuffer littleEndian) {
    int size = elementBytes(datatype);
    if (size <= 0) {
      throw new IllegalArgumentException("datatype " + datatype + " has no numbers");
    }
    ByteBuffer b = littleEndian.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    double[] out = new double[b.remaining() / size];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (datatype) {
        case "BOOL" -> b.get() != 0 ? 1 : 0;
        case "INT8" -> b.get();
        case "UINT8" -> b.get() & 0xff;
        case "INT16" -> b.getShort();
        case "UINT16" -> b.getShort() & 0xffff;
        case "FP16" -> HalfFloats.fromFp16(b.getShort());
        case "BF16" -> HalfFloats.fromBf16(b.getShort());
        case "INT32" -> b.getInt();
        case "UINT32" -> Integer.toUnsignedLong(b.getInt());
        case "FP32" -> b.getFloat();
        case "INT64" -> b.getLong();
        case "UINT64" -> unsigned(b.getLong());
        default -> b.getDouble();
      };
    }
    return out;
  }

  private static double unsigned(long v) {
    return v >= 0 ? v : (double) (v >>> 1) * 2 + (v & 1);
  }

  /** The elements of a BYTES tensor as UTF-8 strings. */
  public List<String> strings() {
    return elements().stream().map(e -> new String(e, StandardCharsets.UTF_8)).toList();
  }

  @Override
  public String toString() {
    return name + " " + datatype + " " + Arrays.toString(shape);
  }
}
