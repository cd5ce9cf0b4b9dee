package io.junction.server.payload;

import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
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
    sha.update(t.data());
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    int n = t.size();
    for (int i = 0; i < n; i++) {
      double v = t.number(i);
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
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
