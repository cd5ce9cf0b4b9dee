package io.junction.testkit;

import static io.junction.testkit.OnnxModelBuilder.DYNAMIC;

import java.util.List;

/**
 * An image classifier with spatial dimensions, {@code [batch, channels, height, width]} to class
 * probabilities {@code [batch, classes]}: global average pooling per channel, a dense layer, softmax.
 * Its weights are kept so tests can compute the expected probabilities in plain Java.
 *
 * @param weights row-major {@code [channels × classes]}
 */
public record ImageClassifier(int channels, int height, int width, int classes, float[] weights,
    float[] bias) {
  public static final String INPUT = "image";
  public static final String OUTPUT = "probabilities";

  public static ImageClassifier seeded(int channels, int height, int width, int classes, int seed) {
    float[] w = new float[channels * classes];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) Math.sin(seed + i * 1.3) * 2f;
    }
    float[] b = new float[classes];
    for (int j = 0; j < classes; j++) {
      b[j] = (float) Math.cos(seed + j) * 0.2f;
    }
    return new ImageClassifier(channels, height, width, classes, w, b);
  }

  public byte[] onnx() {
    return new OnnxModelBuilder("image_classifier")
        .input(INPUT, OnnxType.FLOAT, DYNAMIC, channels, height, width)
        .output(OUTPUT, OnnxType.FLOAT, DYNAMIC, classes)
        .initializer("W", weights, channels, classes)
        .initializer("B", bias, classes)
        .node("GlobalAveragePool", List.of(INPUT), List.of("pooled"))
        .node("Flatten", List.of("pooled"), List.of("features"),
            OnnxModelBuilder.intAttribute("axis", 1))
        .node("MatMul", List.of("features", "W"), List.of("logits_raw"))
        .node("Add", List.of("logits_raw", "B"), List.of("logits"))
        .node("Softmax", List.of("logits"), List.of(OUTPUT),
            OnnxModelBuilder.intAttribute("axis", 1))
        .build();
  }

  public float[] expected(float[] images, int batch) {
    int plane = height * width;
    float[] out = new float[batch * classes];
    for (int n = 0; n < batch; n++) {
      double[] logits = new double[classes];
      for (int k = 0; k < classes; k++) {
        logits[k] = bias[k];
      }
      for (int c = 0; c < channels; c++) {
        double sum = 0;
        int base = (n * channels + c) * plane;
        for (int p = 0; p < plane; p++) {
          sum += images[base + p];
        }
        double mean = sum / plane;
        for (int k = 0; k < classes; k++) {
          logits[k] += mean * weights[c * classes + k];
        }
      }
      double max = Double.NEGATIVE_INFINITY;
      for (double l : logits) {
        max = Math.max(max, l);
      }
      double total = 0;
      for (int k = 0; k < classes; k++) {
        logits[k] = Math.exp(logits[k] - max);
        total += logits[k];
      }
      for (int k = 0; k < classes; k++) {
        out[n * classes + k] = (float) (logits[k] / total);
      }
    }
    return out;
  }
}
