package io.junction.server.http;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.golden.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * The flattened {@code data} of one REST input, as read from JSON before the model's datatype is
 * checked: numbers and booleans as 8 bytes each (integers exactly, others as double bits), strings as
 * UTF-8. So a JSON body costs at most a few times its size, never a tree of objects per element.
 */
final class JsonColumn {
  private long[] values = new long[16];
  private final BitSet doubles = new BitSet();
  private final List<byte[]> strings = new ArrayList<>();
  private int size;

  void addLong(long v) {
    grow();
    values[size++] = v;
  }

  void addDouble(double v) {
    grow();
    doubles.set(size);
    values[size++] = Double.doubleToRawLongBits(v);
  }

  void addBoolean(boolean v) {
    addLong(v ? 1 : 0);
  }

  void addString(String s) {
    strings.add(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Elements read: numbers and booleans, or strings. */
  long count() {
    return size + strings.size();
  }

  private void grow() {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
  }

  /** The strings of a BYTES input. */
  List<byte[]> strings(String label, String name) {
    if (size > 0) {
      throw new InvalidInputException(label + ": input '" + name + "' of datatype BYTES needs strings in data, got numbers");
    }
    return strings;
  }

  /** The values as the little-endian bytes of {@code type}, range-checked. */
  ByteBuffer encode(String label, String name, DataType type) {
    if (!strings.isEmpty()) {
      throw new InvalidInputException(label + ": input '" + name + "' of datatype " + type + " needs numbers in data, got strings");
    }
    ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(size, type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < size; i++) {
      boolean isDouble = doubles.get(i);
      long bits = values[i];
      switch (type) {
        case FP32 -> out.putFloat((float) asDouble(i));
        case FP64 -> out.putDouble(asDouble(i));
        case FP16 -> out.putShort(HalfFloats.toFp16((float) asDouble(i)));
        case BF16 -> out.putShort(HalfFloats.toBf16((float) asDouble(i)));
        case BOOL -> out.put((byte) (integer(label, name, type, i, isDouble, bits, 0, 1)));
        case INT8 -> out.put((byte) integer(label, name, type, i, isDouble, bits, Byte.MIN_VALUE, Byte.MAX_VALUE));
        case UINT8 -> out.put((byte) integer(label, name, type, i, isDouble, bits, 0, 255));
        case INT16 -> out.putShort((short) integer(label, name, type, i, isDouble, bits, Short.MIN_VALUE, Short.MAX_VALUE));
        case UINT16 -> out.putShort((short) integer(label, name, type, i, isDouble, bits, 0, 65535));
        case INT32 -> out.putInt((int) integer(label, name, type, i, isDouble, bits, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case UINT32 -> out.putInt((int) integer(label, name, type, i, isDouble, bits, 0, 0xffffffffL));
        case INT64, UINT64 -> out.putLong(integer(label, name, type, i, isDouble, bits, Long.MIN_VALUE, Long.MAX_VALUE));
        default -> throw new InvalidInputException(label + ": input '" + name + "' datatype " + type + " cannot come as JSON numbers");
      }
    }
    out.flip();
    return out;
  }

  private double asDouble(int i) {
    return doubles.get(i) ? Double.longBitsToDouble(values[i]) : (double) values[i];
  }

  private static long integer(String label, String name, DataType type, int index, boolean isDouble, long bits,
      long min, long max) {
    if (isDouble) {
      throw new InvalidInputException(label + ": input '" + name + "' element " + index + " is "
          + Double.longBitsToDouble(bits) + ", not an integer as " + type + " needs");
    }
    if (bits < min || bits > max) {
      throw new InvalidInputException(label + ": input '" + name + "' element " + index + " is " + bits
          + ", outside the range of " + type);
    }
    return bits;
  }
}
