package io.junction.server.drift;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.HalfFloats;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;

/** A numeric tensor's values as doubles, row-major, with its shape: from a live tensor or a reference file. */
interface Values {
  long[] shape();

  int size();

  double get(int index);

  /** A fixed-size numeric tensor's values; null for BYTES. */
  static Values of(Tensor t) {
    if (t.dataType() == DataType.BYTES) {
      return null;
    }
    ByteBuffer d = t.data();
    DataType type = t.dataType();
    int size = d.remaining() / type.byteSize();
    long[] shape = t.shape();
    return new Values() {
      @Override
      public long[] shape() {
        return shape;
      }

      @Override
      public int size() {
        return size;
      }

      @Override
      public double get(int i) {
        int at = i * type.byteSize();
        return switch (type) {
          case BOOL, UINT8 -> d.get(at) & 0xff;
          case INT8 -> d.get(at);
          case INT16 -> d.getShort(at);
          case UINT16 -> d.getShort(at) & 0xffff;
          case INT32 -> d.getInt(at);
          case UINT32 -> Integer.toUnsignedLong(d.getInt(at));
          case INT64, UINT64 -> d.getLong(at);
          case FP16 -> HalfFloats.fromFp16(d.getShort(at));
          case BF16 -> HalfFloats.fromBf16(d.getShort(at));
          case FP32 -> d.getFloat(at);
          case FP64 -> d.getDouble(at);
          default -> Double.NaN;
        };
      }
    };
  }

  static Values of(long[] shape, double[] values) {
    return new Values() {
      @Override
      public long[] shape() {
        return shape;
      }

      @Override
      public int size() {
        return values.length;
      }

      @Override
      public double get(int i) {
        return values[i];
      }
    };
  }
}
