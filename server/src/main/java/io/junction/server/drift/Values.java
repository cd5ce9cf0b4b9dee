package io.junction.server.drift;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;

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
    long[] shape = t.shape();
    int size = t.size();
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
        return t.number(i);
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
