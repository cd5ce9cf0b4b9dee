package io.junction.server.tensor;

import io.junction.server.errors.InvalidInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The Open Inference Protocol's raw tensor form, whatever carries it (gRPC's {@code raw_input_contents},
 * REST's binary data extension): little-endian, row-major, BYTES elements each a 4-byte length and its
 * bytes. Sizes a shape claims are checked against the bytes actually sent before anything is allocated.
 */
public final class RawTensors {
  private RawTensors() {}

  /**
   * A tensor over {@code raw} (not copied: a read-only view; the batcher copies it once).
   *
   * @param source what carried the bytes, for messages (e.g. "raw_input_contents")
   */
  public static Tensor decode(String label, String name, DataType type, long[] shape, ByteBuffer raw, String source) {
    long count = elementCount(label, name, shape);
    if (type == DataType.BYTES) {
      return Tensor.bytes(name, shape, splitBytes(label, name, count, raw.duplicate(), source));
    }
    long expected = byteCount(label, name, type, shape, count);
    if (raw.remaining() != expected) {
      throw new InvalidInputException(label + ": input '" + name + "' of datatype " + type + " and shape "
          + Shapes.format(shape) + " needs " + expected + " bytes of " + source + ", got " + raw.remaining());
    }
    return Tensor.fixed(name, type, shape, raw.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** A BYTES tensor's elements in the raw form: each a 4-byte little-endian length and its bytes. */
  public static byte[] encodeBytes(List<byte[]> elements) {
    int size = 0;
    for (byte[] e : elements) {
      size = Math.addExact(size, 4 + e.length);
    }
    ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : elements) {
      out.putInt(e.length).put(e);
    }
    return out.array();
  }

  /** The number of elements a shape claims, checked (negative dimensions and overflow refused). */
  public static long elementCount(String label, String name, long[] shape) {
    try {
      return Shapes.elementCount(shape);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(label + ": input '" + name + "': " + e.getMessage());
    }
  }

  /** The bytes a shape claims, checked: a product that does not fit a long is refused, never wrapped. */
  public static long byteCount(String label, String name, DataType type, long[] shape, long count) {
    try {
      return Math.multiplyExact(count, (long) type.byteSize());
    } catch (ArithmeticException e) {
      throw new InvalidInputException(label + ": input '" + name + "' of datatype " + type + " and shape "
          + Shapes.format(shape) + " claims more bytes than any request can carry");
    }
  }

  private static List<byte[]> splitBytes(String label, String name, long count, ByteBuffer raw, String source) {
    ByteBuffer in = raw.order(ByteOrder.LITTLE_ENDIAN);
    int size = in.remaining();
    // Each element needs at least its 4-byte length, which bounds the list before it is allocated.
    if (count > in.remaining() / 4) {
      throw new InvalidInputException(label + ": input '" + name + "' claims " + count
          + " BYTES elements but " + source + " holds only " + size + " bytes");
    }
    List<byte[]> elements = new ArrayList<>((int) count);
    for (long i = 0; i < count; i++) {
      if (in.remaining() < 4) {
        throw new InvalidInputException(label + ": input '" + name + "' " + source + " ends inside the length of element " + i);
      }
      long length = Integer.toUnsignedLong(in.getInt());
      if (length > in.remaining()) {
        throw new InvalidInputException(label + ": input '" + name + "' element " + i + " claims " + length
            + " bytes but only " + in.remaining() + " remain in " + source);
      }
      byte[] element = new byte[(int) length];
      in.get(element);
      elements.add(element);
    }
    if (in.hasRemaining()) {
      throw new InvalidInputException(label + ": input '" + name + "' " + source + " has " + in.remaining()
          + " bytes after its " + count + " elements");
    }
    return elements;
  }
}
