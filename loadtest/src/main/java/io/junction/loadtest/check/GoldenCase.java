package io.junction.loadtest.check;

import io.junction.proto.inference.ModelInferRequest;
import java.util.List;

/**
 * One golden case: a request and what its answer must be.
 *
 * @param name how reports call it (the file's {@code name}, else its line number)
 * @param request the request, without model name and version (the check sets them)
 * @param expected the outputs to check, each with its tolerance
 */
public record GoldenCase(String name, ModelInferRequest request, List<ExpectedOutput> expected) {
  /**
   * What one output must be: {@code values} element by element within {@code |actual - expected| <=
   * absolute + relative * |expected|}; or, with {@code topK > 0} (classifiers), the same top-k classes
   * along the last dimension, row by row, whatever the scores; or {@code strings} exactly (BYTES).
   */
  public record ExpectedOutput(String name, double[] values, List<String> strings, double absolute, double relative,
      int topK) {}
}
