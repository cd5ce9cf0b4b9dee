package io.junction.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One input tensor, encoded once as the protocol's raw little-endian contents. The factories check
 * that the data fits the shape, so a mistake shows up here rather than as a server error.
 */
public final class InferInput {
  private final String name;
  private final Datatype datatype;
  private final long[] shape;
  private final ByteString raw;

  private InferInput(String name, Datatype datatype, long[] shape, ByteString raw) {
    this.name = Objects.requireNonNull(name, "name");
    this.datatype = datatype;
    this.shape = shape.clone();
    this.raw = raw;
  }

  public static InferInput fp32(String name, float[] data, long... shape) {
    ByteBuffer b = buffer(name, data.length, shape, 4);
    b.asFloatBuffer().put(data);
    return new InferInput(name, Datatype.FP32, shape, wrap(b));
  }

  public static InferInput fp64(String name, double[] data, long... shape) {
    ByteBuffer b = buffer(name, data.length, shape, 8);
    b.asDoubleBuffer().put(data);
    return new InferInput(name, Datatype.FP64, shape, wrap(b));
  }

  public static InferInput int32(String name, int[] data, long... shape) {
    ByteBuffer b = buffer(name, data.length, shape, 4);
    b.asIntBuffer().put(data);
    return new InferInput(name, Datatype.INT32, shape, wrap(b));
  }

  public static InferInput int64(String name, long[] data, long... shape) {
    ByteBuffer b = buffer(name, data.length, shape, 8);
    b.asLongBuffer().put(data);
    return new InferInput(name, Datatype.INT64, shape, wrap(b));
  }

  /** Bytes as UINT8 elements (e.g. image pixels). */
  public static InferInput uint8(String name, byte[] data, long... shape) {
    checkCount(name, data.length, shape);
    return new InferInput(name, Datatype.UINT8, shape, ByteString.copyFrom(data));
  }

  public static InferInput bool(String name, boolean[] data, long... shape) {
    checkCount(name, data.length, shape);
    byte[] bytes = new byte[data.length];
    for (int i = 0; i < data.length; i++) {
      bytes[i] = (byte) (data[i] ? 1 : 0);
    }
    return new InferInput(name, Datatype.BOOL, shape, UnsafeByteOperations.unsafeWrap(bytes));
  }

  /** Strings as BYTES elements, UTF-8 encoded. */
  public static InferInput strings(String name, String[] data, long... shape) {
    byte[][] elements = new byte[data.length][];
    for (int i = 0; i < data.length; i++) {
      elements[i] = data[i].getBytes(StandardCharsets.UTF_8);
    }
    return bytes(name, elements, shape);
  }

  /** Arbitrary byte strings as BYTES elements. */
  public static InferInput bytes(String name, byte[][] data, long... shape) {
    checkCount(name, data.length, shape);
    int size = 0;
    for (byte[] e : data) {
      size += 4 + e.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : data) {
      b.putInt(e.length).put(e);
    }
    return new InferInput(name, Datatype.BYTES, shape, UnsafeByteOperations.unsafeWrap(b.array()));
  }

  /** Contents already in the protocol's raw form, for datatypes without a helper (FP16, BF16, ...). */
  public static InferInput raw(String name, Datatype datatype, byte[] raw, long... shape) {
    if (datatype.byteSize() > 0) {
      long expected = elementCount(name, shape) * datatype.byteSize();
      if (raw.length != expected) {
        throw new IllegalArgumentException("input '" + name + "': shape " + Arrays.toString(shape) + " of " + datatype
            + " needs " + expected + " bytes, got " + raw.length);
      }
    }
    return new InferInput(name, datatype, shape, ByteString.copyFrom(raw));
  }

  public String name() {
    return name;
  }

  public Datatype datatype() {
    return datatype;
  }

  public long[] shape() {
    return shape.clone();
  }

  ByteString rawContents() {
    return raw;
  }

  private static ByteBuffer buffer(String name, int count, long[] shape, int size) {
    checkCount(name, count, shape);
    return ByteBuffer.allocate(count * size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteString wrap(ByteBuffer b) {
    return UnsafeByteOperations.unsafeWrap(b.array());
  }

  private static void checkCount(String name, int count, long[] shape) {
    long expected = elementCount(name, shape);
    if (expected != count) {
      throw new IllegalArgumentException("input '" + name + "': shape " + Arrays.toString(shape) + " holds "
          + expected + " elements, got " + count);
    }
  }

  private static long elementCount(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("input '" + name + "': negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
