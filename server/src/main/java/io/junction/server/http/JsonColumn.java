package io.junction.server.http;

import io.junction.server.errors.InvalidInputException;
import io.junction.server.tensor.DataType;
import io.junction.golden.HalfFloats;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The flattened {@code data} of one REST input, as read from JSON before the model's datatype is
 * checked: numbers and booleans as 8 bytes and a kind each (integers exactly, others as double bits), strings as
 * UTF-8. So a JSON body costs at most a few times its size, never a tree of objects per element.
 */
final class JsonColumn {
  /** A signed 64-bit integer, exactly. */
  private static final byte SIGNED = 0;
  /** A number with a fraction or an exponent, as double bits: no integer datatype takes it. */
  private static final byte FRACTIONAL = 1;
  /** An integer in [2^63, 2^64), as the bits of its unsigned 64-bit form: only UINT64 holds it. */
  private static final byte UNSIGNED = 2;
  /** An integer beyond every 64-bit range, as double bits: floating-point datatypes take it, integer ones cannot. */
  private static final byte HUGE = 3;

  private long[] values = new long[16];
  private byte[] kinds = new byte[16];
  private final List<byte[]> strings = new ArrayList<>();
  private int size;

  void addLong(long v) {
    add(SIGNED, v);
  }

  void addDouble(double v) {
    add(FRACTIONAL, Double.doubleToRawLongBits(v));
  }

  /** An integer JSON wrote with more digits than a signed 64-bit integer holds. */
  void addBigInteger(BigInteger v) {
    if (v.signum() > 0 && v.bitLength() <= Long.SIZE) {
      add(UNSIGNED, v.longValue());
    } else {
      add(HUGE, Double.doubleToRawLongBits(v.doubleValue()));
    }
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

  private void add(byte kind, long bits) {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
      kinds = Arrays.copyOf(kinds, kinds.length * 2);
    }
    kinds[size] = kind;
    values[size++] = bits;
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
      switch (type) {
        case FP32 -> out.putFloat((float) asDouble(i));
        case FP64 -> out.putDouble(asDouble(i));
        case FP16 -> out.putShort(HalfFloats.toFp16((float) asDouble(i)));
        case BF16 -> out.putShort(HalfFloats.toBf16((float) asDouble(i)));
        case BOOL -> out.put((byte) signed(label, name, type, i, 0, 1));
        case INT8 -> out.put((byte) signed(label, name, type, i, Byte.MIN_VALUE, Byte.MAX_VALUE));
        case UINT8 -> out.put((byte) signed(label, name, type, i, 0, 255));
        case INT16 -> out.putShort((short) signed(label, name, type, i, Short.MIN_VALUE, Short.MAX_VALUE));
        case UINT16 -> out.putShort((short) signed(label, name, type, i, 0, 65535));
        case INT32 -> out.putInt((int) signed(label, name, type, i, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case UINT32 -> out.putInt((int) signed(label, name, type, i, 0, 0xffffffffL));
        case INT64 -> out.putLong(signed(label, name, type, i, Long.MIN_VALUE, Long.MAX_VALUE));
        case UINT64 -> out.putLong(kinds[i] == UNSIGNED ? values[i] : signed(label, name, type, i, 0, Long.MAX_VALUE));
        default -> throw new InvalidInputException(label + ": input '" + name + "' datatype " + type + " cannot come as JSON numbers");
      }
    }
    out.flip();
    return out;
  }

  private double asDouble(int i) {
    long bits = values[i];
    return switch (kinds[i]) {
      case SIGNED -> (double) bits;
      case UNSIGNED -> (bits >>> 1) * 2.0 + (bits & 1);
      default -> Double.longBitsToDouble(bits);
    };
  }

  /** Element {@code index} as a signed integer within [min, max]; anything else is the client's error. */
  private long signed(String label, String name, DataType type, int index, long min, long max) {
    long bits = values[index];
    String element = label + ": input '" + name + "' element " + index + " is ";
    switch (kinds[index]) {
      case SIGNED -> {
        if (bits < min || bits > max) {
          throw new InvalidInputException(element + bits + ", outside the range of " + type);
        }
        return bits;
      }
      case FRACTIONAL -> throw new InvalidInputException(element + Double.longBitsToDouble(bits)
          + ", not an integer as " + type + " needs");
      case UNSIGNED -> throw new InvalidInputException(element + Long.toUnsignedString(bits)
          + ", outside the range of " + type);
      default -> throw new InvalidInputException(element + Double.longBitsToDouble(bits)
          + ", outside the range of " + type);
    }
  }
}
