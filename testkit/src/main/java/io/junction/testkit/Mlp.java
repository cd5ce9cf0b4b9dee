package io.junction.testkit;

import java.util.List;

/**
 * A one-layer perceptron {@code y = relu(x·W + b)} with a dynamic batch dimension, its weights kept so
 * tests can compute the expected answer in plain Java.
 *
 * @param weights row-major {@code [inputs × outputs]}
 * @param bias {@code [outputs]}
 */
public record Mlp(int inputs, int outputs, float[] weights, float[] bias) {
  public static final String INPUT = "x";
  public static final String OUTPUT = "y";

  /** Deterministic weights from a seed, so two versions of a model can differ. */
  public static Mlp seeded(int inputs, int outputs, int seed) {
    float[] w = new float[inputs * outputs];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) Math.sin(seed * 31 + i * 0.7) * 0.5f;
    }
    float[] b = new float[outputs];
    for (int j = 0; j < outputs; j++) {
      b[j] = (float) Math.cos(seed * 17 + j) * 0.1f;
    }
    return new Mlp(inputs, outputs, w, b);
  }

  public byte[] onnx() {
    return new OnnxModelBuilder("mlp")
        .input(INPUT, OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, inputs)
        .output(OUTPUT, OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, outputs)
        .initializer("W", weights, inputs, outputs)
        .initializer("B", bias, outputs)
        .node("MatMul", List.of(INPUT, "W"), List.of("xw"))
        .node("Add", List.of("xw", "B"), List.of("xwb"))
        .node("Relu", List.of("xwb"), List.of(OUTPUT))
        .build();
  }

  /** The answer for {@code rows} rows of input, computed in double precision then rounded. */
  public float[] expected(float[] x, int rows) {
    float[] y = new float[rows * outputs];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < outputs; j++) {
        double acc = bias[j];
        for (int i = 0; i < inputs; i++) {
          acc += (double) x[r * inputs + i] * weights[i * outputs + j];
        }
        y[r * outputs + j] = (float) Math.max(0.0, acc);
      }
    }
    return y;
  }
}
