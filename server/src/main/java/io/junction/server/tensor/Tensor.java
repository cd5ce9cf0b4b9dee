package io.junction.server.tensor;

import io.junction.golden.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A named tensor: element type, concrete shape and row-major data. Fixed-size types hold their
 * elements little-endian in {@link #data()} (a direct buffer when it came from a request, so a backend
 * can use it without another copy); {@link DataType#BYTES} tensors hold one byte array per element.
 * A tensor does not copy what it is given: whoever builds one hands its buffers over.
 */
public final class Tensor {
  private final String name;
  private final DataType dataType;
  private final long[] shape;
  private final ByteBuffer data;
  private final List<byte[]> elements;

  private Tensor(String name, DataType dataType, long[] shape, ByteBuffer data, List<byte[]> elements) {
    this.name = Objects.requireNonNull(name, "name");
    this.dataType = Objects.requireNonNull(dataType, "dataType");
    this.shape = shape.clone();
    this.data = data;
    this.elements = elements;
  }

  /** A fixed-size tensor over {@code data}, which must hold exactly the shape's bytes. */
  public static Tensor fixed(String name, DataType dataType, long[] shape, ByteBuffer data) {
    if (!dataType.isFixedSize()) {
      throw new IllegalArgumentException(dataType + " is not a fixed-size type");
    }
    long expected = Shapes.elementCount(shape) * dataType.byteSize();
    if (data.remaining() != expected) {
      throw new IllegalArgumentException("tensor " + name + " of shape " + Shapes.format(shape) + " and type "
          + dataType + " needs " + expected + " bytes, got " + data.remaining());
    }
    return new Tensor(name, dataType, shape, data.slice().order(ByteOrder.LITTLE_ENDIAN), null);
  }

  /** A BYTES tensor with one entry per element, row-major. */
  public static Tensor bytes(String name, long[] shape, List<byte[]> elements) {
    if (Shapes.elementCount(shape) != elements.size()) {
      throw new IllegalArgumentException("tensor " + name + " of shape " + Shapes.format(shape) + " needs "
          + Shapes.elementCount(shape) + " elements, got " + elements.size());
    }
    return new Tensor(name, DataType.BYTES, shape, null, List.copyOf(elements));
  }

  /** The same elements under another shape of as many: a view, nothing copied. */
  public Tensor withShape(long[] newShape) {
    if (Shapes.elementCount(newShape) != elementCount()) {
      throw new IllegalArgumentException("tensor " + name + " of shape " + Shapes.format(shape)
          + " cannot take shape " + Shapes.format(newShape));
    }
    return new Tensor(name, dataType, newShape, data, elements);
  }

  public String name() {
    return name;
  }

  public DataType dataType() {
    return dataType;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int index) {
    return shape[index];
  }

  public long elementCount() {
    return Shapes.elementCount(shape);
  }

  /** Little-endian element bytes of a fixed-size tensor; a read-only view, position 0. */
  public ByteBuffer data() {
    if (data == null) {
      throw new IllegalStateException("tensor " + name + " is BYTES; use elements()");
    }
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The backing buffer itself, for backends that hand it to native code without copying. */
  public ByteBuffer unsafeData() {
    if (data == null) {
      throw new IllegalStateException("tensor " + name + " is BYTES; use elements()");
    }
    return data;
  }

  /**
   * Element {@code index} (row-major) of a fixed-size tensor as a double: half floats widened, unsigned
   * integers as their value (UINT64 above 2^63 approximately). For statistics, not for exact values.
   */
  public double number(int index) {
    if (data == null) {
      throw new IllegalStateException("tensor " + name + " is BYTES; use elements()");
    }
    ByteBuffer d = data.order() == ByteOrder.LITTLE_ENDIAN ? data : data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int at = data.position() + index * dataType.byteSize();
    return switch (dataType) {
      case BOOL, UINT8 -> d.get(at) & 0xff;
      case INT8 -> d.get(at);
      case INT16 -> d.getShort(at);
      case UINT16 -> d.getShort(at) & 0xffff;
      case INT32 -> d.getInt(at);
      case UINT32 -> Integer.toUnsignedLong(d.getInt(at));
      case INT64 -> d.getLong(at);
      case UINT64 -> {
        long x = d.getLong(at);
        yield x >= 0 ? x : (double) (x >>> 1) * 2.0;
      }
      case FP16 -> HalfFloats.fromFp16(d.getShort(at));
      case BF16 -> HalfFloats.fromBf16(d.getShort(at));
      case FP32 -> d.getFloat(at);
      case FP64 -> d.getDouble(at);
      case BYTES -> throw new IllegalStateException("unreachable: BYTES has no data buffer");
    };
  }

  /** Elements of a fixed-size tensor. */
  public int size() {
    return data == null ? elements.size() : data.remaining() / dataType.byteSize();
  }

  /** Elements of a BYTES tensor. */
  public List<byte[]> elements() {
    if (elements == null) {
      throw new IllegalStateException("tensor " + name + " is " + dataType + "; use data()");
    }
    return elements;
  }

  @Override
  public String toString() {
    return "Tensor[" + name + ", " + dataType + ", " + Arrays.toString(shape) + "]";
  }
}
