package io.junction.golden;

/**
 * IEEE half precision and bfloat16 to and from float (Java 17 has neither), rounding to nearest even.
 * Golden files need them to read and write FP16/BF16 tensors; the server's tensors use the same.
 */
public final class HalfFloats {
  private HalfFloats() {}

  public static float fromFp16(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // infinity or NaN
    }
    if (exponent == 0) {
      if (mantissa == 0) {
        return Float.intBitsToFloat(sign);
      }
      float value = mantissa / 1024f / 16384f; // subnormal: mantissa * 2^-24
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  public static short toFp16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = (bits >>> 23) & 0xff;
    int mantissa = bits & 0x7fffff;
    if (exponent == 0xff) {
      return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0));
    }
    int e = exponent - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00); // too large: infinity
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign; // too small: zero
      }
      int m = (mantissa | 0x800000) >> (1 - e);
      if ((m & 0x1fff) > 0x1000 || ((m & 0x1fff) == 0x1000 && (m & 0x2000) != 0)) {
        m += 0x2000;
      }
      return (short) (sign | (m >> 13));
    }
    int half = sign | (e << 10) | (mantissa >> 13);
    int rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
      half++; // may carry into the exponent, which is right (up to infinity)
    }
    return (short) half;
  }

  public static float fromBf16(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }

  public static short toBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }
}
