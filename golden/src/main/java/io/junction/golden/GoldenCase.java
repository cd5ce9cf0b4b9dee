package io.junction.golden;

import java.util.List;
import java.util.Optional;

/**
 * One golden case: inputs, and what the model's answer to them must be.
 *
 * @param name how reports call it
 * @param inputs the request's inputs, with their batch dimension if the model has one
 * @param expected the outputs to check, each with its tolerance
 */
public record GoldenCase(String name, List<GoldenTensor> inputs, List<ExpectedOutput> expected) {
  public GoldenCase {
    inputs = List.copyOf(inputs);
    expected = List.copyOf(expected);
  }

  /** The names of the expected outputs, which are the outputs a check asks for. */
  public List<String> outputNames() {
    return expected.stream().map(ExpectedOutput::name).toList();
  }

  /**
   * What one output must be: {@code values} element by element within {@code |actual - expected| <=
   * absolute + relative * |expected|} (numpy's {@code allclose} rule); or, with {@code topK > 0}
   * (classifiers), the same top-k classes along the last dimension, row by row, whatever the scores; or
   * {@code strings} exactly (BYTES). When {@code shape} is given, the answer's shape must equal it.
   */
  public record ExpectedOutput(String name, double[] values, List<String> strings, Optional<long[]> shape,
      Tolerance tolerance) {
    public ExpectedOutput {
      values = values.clone();
      strings = List.copyOf(strings);
      shape = shape.map(long[]::clone);
    }

    @Override
    public double[] values() {
      return values.clone();
    }

    public boolean isStrings() {
      return !strings.isEmpty();
    }
  }

  /**
   * How close is close enough. The defaults (absolute 1e-5, relative 1e-4) are looser than numpy's
   * (1e-8, 1e-5): FP32 models differ in their last bits across backends, thread counts and batch sizes.
   */
  public record Tolerance(double absolute, double relative, int topK) {
    public static final double DEFAULT_ABSOLUTE = 1e-5;
    public static final double DEFAULT_RELATIVE = 1e-4;

    public Tolerance {
      if (!(absolute >= 0) || !(relative >= 0) || topK < 0) {
        throw new IllegalArgumentException("tolerances must be non-negative: atol " + absolute + ", rtol " + relative
            + ", top_k " + topK);
      }
    }

    public static Tolerance defaults() {
      return new Tolerance(DEFAULT_ABSOLUTE, DEFAULT_RELATIVE, 0);
    }
  }
}
