package io.junction.testkit;

import java.util.ArrayList;
import java.util.List;

/**
 * A multi-layer perceptron with ReLU between layers, e.g. {@code 512 → 2048 → 2048 → 512}: a
 * batch-friendly model (matrix products get cheaper per row as the batch grows). Weights are kept so
 * tests can compute expected outputs in plain Java.
 *
 * @param widths layer widths, input first
 * @param weights one row-major {@code [in × out]} matrix per layer
 * @param biases one vector per layer
 */
public record DeepMlp(int[] widths, List<float[]> weights, List<float[]> biases) {
  public static final String INPUT = "x";
  public static final String OUTPUT = "y";

  /**
   * The big MLP, {@code 512 → 2048 → 2048 → 512}: a batch of 64 rows takes tens of milliseconds on one core,
   * long enough for tests to fill queues, cancel calls and drain a server while it runs.
   */
  public static DeepMlp slow() {
    return seeded(1, 512, 2048, 2048, 512);
  }

  public static DeepMlp seeded(int seed, int... widths) {
    if (widths.length < 2) {
      throw new IllegalArgumentException("an MLP needs at least an input and an output width");
    }
    List<float[]> w = new ArrayList<>();
    List<float[]> b = new ArrayList<>();
    for (int l = 0; l + 1 < widths.length; l++) {
      int in = widths[l];
      int out = widths[l + 1];
      float[] m = new float[in * out];
      float scale = (float) (1.0 / Math.sqrt(in)); // keeps activations in a sane range through the layers
      for (int i = 0; i < m.length; i++) {
        m[i] = (float) Math.sin(seed * 131 + l * 17 + i * 0.37) * scale;
      }
      float[] v = new float[out];
      for (int j = 0; j < out; j++) {
        v[j] = (float) Math.cos(seed + l + j) * 0.05f;
      }
      w.add(m);
      b.add(v);
    }
    return new DeepMlp(widths.clone(), List.copyOf(w), List.copyOf(b));
  }

  public int inputs() {
    return widths[0];
  }

  public int outputs() {
    return widths[widths.length - 1];
  }

  public byte[] onnx() {
    OnnxModelBuilder b = new OnnxModelBuilder("deep_mlp")
        .input(INPUT, OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, inputs())
        .output(OUTPUT, OnnxType.FLOAT, OnnxModelBuilder.DYNAMIC, outputs());
    String current = INPUT;
    for (int l = 0; l < weights.size(); l++) {
      boolean last = l == weights.size() - 1;
      b.initializer("W" + l, weights.get(l), widths[l], widths[l + 1])
          .initializer("B" + l, biases.get(l), widths[l + 1])
          .node("MatMul", List.of(current, "W" + l), List.of("mm" + l))
          .node("Add", List.of("mm" + l, "B" + l), List.of(last ? OUTPUT : "pre" + l));
      if (!last) {
        b.node("Relu", List.of("pre" + l), List.of("act" + l));
        current = "act" + l;
      }
    }
    return b.build();
  }

  /** Expected outputs for {@code rows} rows, in double precision. */
  public float[] expected(float[] x, int rows) {
    double[] act = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      act[i] = x[i];
    }
    for (int l = 0; l < weights.size(); l++) {
      int in = widths[l];
      int out = widths[l + 1];
      float[] m = weights.get(l);
      double[] next = new double[rows * out];
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < out; j++) {
          double acc = biases.get(l)[j];
          for (int i = 0; i < in; i++) {
            acc += act[r * in + i] * m[i * out + j];
          }
          next[r * out + j] = l == weights.size() - 1 ? acc : Math.max(0, acc);
        }
      }
      act = next;
    }
    float[] y = new float[act.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) act[i];
    }
    return y;
  }
}
