package io.junction.server.payload;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.HalfFloats;
import io.junction.server.tensor.Tensor;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Shape-free statistics of a tensor's values and a hash of its bytes, for tensors not logged in full. */
final class TensorSummaries {
  private TensorSummaries() {}

  static PayloadRecord.Summary of(Tensor t) {
    MessageDigest sha = sha256();
    if (t.dataType() == DataType.BYTES) {
      for (byte[] e : t.elements()) {
        sha.update(e);
      }
      return new PayloadRecord.Summary(t.elements().size(), Double.NaN, Double.NaN, Double.NaN,
          HexFormat.of().formatHex(sha.digest()));
    }
    ByteBuffer d = t.data();
    sha.update(d.duplicate());
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    long n = 0;
    while (d.hasRemaining()) {
      double v = switch (t.dataType()) {
        case BOOL, UINT8 -> d.get() & 0xff;
        case INT8 -> d.get();
        case INT16 -> d.getShort();
        case UINT16 -> d.getShort() & 0xffff;
        case INT32 -> d.getInt();
        case UINT32 -> Integer.toUnsignedLong(d.getInt());
        case INT64 -> d.getLong();
        case UINT64 -> {
          long x = d.getLong();
          yield x >= 0 ? x : (double) (x >>> 1) * 2.0;
        }
        case FP16 -> HalfFloats.fromFp16(d.getShort());
        case BF16 -> HalfFloats.fromBf16(d.getShort());
        case FP32 -> d.getFloat();
        case FP64 -> d.getDouble();
        default -> 0;
      };
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
      n++;
    }
    return new PayloadRecord.Summary(n, n == 0 ? Double.NaN : min, n == 0 ? Double.NaN : max,
        n == 0 ? Double.NaN : sum / n, HexFormat.of().formatHex(sha.digest()));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
