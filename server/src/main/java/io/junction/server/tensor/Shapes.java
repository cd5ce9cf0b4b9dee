package io.junction.server.tensor;

import java.util.Arrays;

/** Arithmetic on tensor shapes that never overflows silently. */
public final class Shapes {
  /** A dimension whose size is not fixed by the model. */
  public static final long DYNAMIC = -1;

  private Shapes() {}

  /**
   * Number of elements of a concrete shape.
   *
   * @throws IllegalArgumentException if a dimension is negative or the count overflows a long
   */
  public static long elementCount(long[] shape) {
    return elementCount(shape, 0);
  }

  /**
   * Number of elements of the dimensions of {@code shape} from {@code first} on (a row's, from 1), without copying them.
   *
   * @throws IllegalArgumentException if a dimension is negative or the count overflows a long
   */
  public static long elementCount(long[] shape, int first) {
    long count = 1;
    for (int i = first; i < shape.length; i++) {
      long d = shape[i];
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension " + d + " in shape " + format(shape));
      }
      try {
        count = Math.multiplyExact(count, d);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("shape " + format(shape) + " has more elements than a long holds", e);
      }
    }
    return count;
  }

  /** Whether a concrete shape fits a pattern in which {@link #DYNAMIC} matches any size. */
  public static boolean matches(long[] pattern, long[] shape) {
    if (pattern.length != shape.length) {
      return false;
    }
    for (int i = 0; i < pattern.length; i++) {
      if (pattern[i] != DYNAMIC && shape[i] != DYNAMIC && pattern[i] != shape[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The concrete shape of {@code elements} elements that a pattern with at most one {@link #DYNAMIC} dimension
   * describes, the dynamic one sized to make up the count; null when the pattern cannot hold exactly that many.
   */
  public static long[] fill(long[] pattern, long elements) {
    long fixed = 1;
    int dynamic = -1;
    for (int i = 0; i < pattern.length; i++) {
      if (pattern[i] == DYNAMIC) {
        if (dynamic >= 0) {
          throw new IllegalArgumentException("shape " + format(pattern) + " has more than one dynamic dimension");
        }
        dynamic = i;
      } else {
        fixed = Math.multiplyExact(fixed, pattern[i]);
      }
    }
    if (dynamic < 0) {
      return fixed == elements ? pattern.clone() : null;
    }
    long[] shape = pattern.clone();
    if (fixed == 0) {
      shape[dynamic] = 0; // any size holds no elements: the smallest
      return elements == 0 ? shape : null;
    }
    if (elements % fixed != 0) {
      return null;
    }
    shape[dynamic] = elements / fixed;
    return shape;
  }

  public static String format(long[] shape) {
    return Arrays.toString(shape);
  }
}
