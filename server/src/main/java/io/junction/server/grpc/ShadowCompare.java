package io.junction.server.grpc;

import io.junction.proto.inference.ModelInferResponse;
import io.junction.server.routing.ShadowComparison;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** Compares a shadow's answer with the primary's, output by output (FP32 outputs of the same name and shape). */
final class ShadowCompare {
  private ShadowCompare() {}

  static ShadowComparison compare(ModelInferResponse primary, ModelInferResponse shadow) {
    double maxDiff = Double.NaN;
    long rows = 0;
    long agree = 0;
    for (int i = 0; i < primary.getOutputsCount() && i < primary.getRawOutputContentsCount(); i++) {
      var p = primary.getOutputs(i);
      int j = indexOf(shadow, p.getName());
      if (j < 0 || j >= shadow.getRawOutputContentsCount() || !"FP32".equals(p.getDatatype())
          || !p.getDatatype().equals(shadow.getOutputs(j).getDatatype())
          || !p.getShapeList().equals(shadow.getOutputs(j).getShapeList())) {
        continue;
      }
      FloatBuffer a = primary.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      FloatBuffer b = shadow.getRawOutputContents(j).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      if (a.remaining() != b.remaining()) {
        continue;
      }
      double diff = 0;
      for (int k = 0; k < a.remaining(); k++) {
        diff = Math.max(diff, Math.abs(a.get(k) - b.get(k)));
      }
      maxDiff = Double.isNaN(maxDiff) ? diff : Math.max(maxDiff, diff);
      if (p.getShapeCount() == 2 && p.getShape(0) > 0 && p.getShape(1) > 0) {
        int cols = (int) p.getShape(1);
        for (int r = 0; r < p.getShape(0); r++) {
          rows++;
          if (argmax(a, r * cols, cols) == argmax(b, r * cols, cols)) {
            agree++;
          }
        }
      }
    }
    return new ShadowComparison(maxDiff, rows, agree);
  }

  private static int indexOf(ModelInferResponse response, String name) {
    for (int i = 0; i < response.getOutputsCount(); i++) {
      if (response.getOutputs(i).getName().equals(name)) {
        return i;
      }
    }
    return -1;
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
