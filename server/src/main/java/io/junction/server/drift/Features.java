package io.junction.server.drift;

import java.util.ArrayList;
import java.util.List;

/**
 * How a tensor is split into monitored features. A table-like tensor ({@code [rows, columns]}, or a
 * vector) gives one feature per column, the first {@link #MAX_COLUMNS}; anything of higher rank (an
 * image) is one feature over a sample of its values. An output shaped like class scores
 * ({@code [rows, classes]}, 2 to {@link #MAX_CLASSES} classes) is watched as the distribution of its
 * predicted class (argmax) instead.
 */
final class Features {
  static final int MAX_COLUMNS = 64;
  static final int MAX_CLASSES = 64;
  /** The most values one feature takes from one call, so a large tensor costs a bounded amount. */
  static final int MAX_VALUES_PER_CALL = 1024;

  /** One feature's values from one call. */
  record Sample(String name, double[] values) {}

  private Features() {}

  static boolean classifier(long[] shape) {
    return shape.length == 2 && shape[1] >= 2 && shape[1] <= MAX_CLASSES;
  }

  /** @param classes treat the tensor as class scores (an output), see {@link #classifier} */
  static List<Sample> split(String tensor, Values v, boolean classes) {
    long[] shape = v.shape();
    int size = v.size();
    List<Sample> out = new ArrayList<>();
    if (size == 0) {
      return out;
    }
    if (classes && classifier(shape)) {
      int columns = (int) shape[1];
      int rows = Math.min(size / columns, MAX_VALUES_PER_CALL);
      double[] predicted = new double[rows];
      for (int r = 0; r < rows; r++) {
        int best = 0;
        for (int c = 1; c < columns; c++) {
          if (v.get(r * columns + c) > v.get(r * columns + best)) {
            best = c;
          }
        }
        predicted[r] = best;
      }
      out.add(new Sample(tensor + ":class", predicted));
      return out;
    }
    if (shape.length <= 2) {
      int columns = shape.length == 2 ? (int) Math.max(1, shape[1]) : 1;
      int rows = Math.min(size / columns, MAX_VALUES_PER_CALL);
      for (int c = 0; c < Math.min(columns, MAX_COLUMNS); c++) {
        double[] values = new double[rows];
        for (int r = 0; r < rows; r++) {
          values[r] = v.get(r * columns + c);
        }
        out.add(new Sample(columns == 1 ? tensor : tensor + "[" + c + "]", values));
      }
      return out;
    }
    int stride = Math.max(1, size / MAX_VALUES_PER_CALL);
    double[] values = new double[Math.min(size, MAX_VALUES_PER_CALL)];
    for (int i = 0; i < values.length; i++) {
      values[i] = v.get(i * stride);
    }
    out.add(new Sample(tensor, values));
    return out;
  }
}
