package io.junction.server.routing;

import io.junction.server.scheduling.InferenceResult;
import io.junction.server.tensor.DataType;
import io.junction.server.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** Compares a shadow's answer with the primary's, output by output (FP32 outputs of the same name and shape). */
final class ShadowCompare {
  private ShadowCompare() {}

  static ShadowComparison compare(InferenceResult primary, InferenceResult shadow) {
    double maxDiff = Double.NaN;
    long rows = 0;
    long agree = 0;
    for (Tensor p : primary.outputs()) {
      Tensor s = output(shadow, p.name());
      if (s == null || p.dataType() != DataType.FP32 || s.dataType() != DataType.FP32
          || !Arrays.equals(p.shape(), s.shape())) {
        continue;
      }
      FloatBuffer a = p.data().asFloatBuffer();
      FloatBuffer b = s.data().asFloatBuffer();
      double diff = 0;
      for (int k = 0; k < a.remaining(); k++) {
        diff = Math.max(diff, Math.abs(a.get(k) - b.get(k)));
      }
      maxDiff = Double.isNaN(maxDiff) ? diff : Math.max(maxDiff, diff);
      if (p.rank() == 2 && p.dim(0) > 0 && p.dim(1) > 0) {
        int cols = (int) p.dim(1);
        for (int r = 0; r < p.dim(0); r++) {
          rows++;
          if (argmax(a, r * cols, cols) == argmax(b, r * cols, cols)) {
            agree++;
          }
        }
      }
    }
    return new ShadowComparison(maxDiff, rows, agree);
  }

  private static Tensor output(InferenceResult result, String name) {
    for (Tensor t : result.outputs()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  private static int argmax(FloatBuffer data, int offset, int count) {
    int best = 0;
    for (int k = 1; k < count; k++) {
      if (data.get(offset + k) > data.get(offset + best)) {
        best = k;
      }
    }
    return best;
  }
}
