package io.junction.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GoldenComparisonTest {
  private static GoldenCase expecting(double[] values, long[] shape, GoldenCase.Tolerance tolerance) {
    return new GoldenCase("c", List.of(), List.of(new GoldenCase.ExpectedOutput("y", values, List.of(),
        Optional.ofNullable(shape), tolerance)));
  }

  private static GoldenComparison.OutputVerdict verdict(GoldenCase golden, ActualOutput actual) {
    return GoldenComparison.compare(golden, List.of(actual)).get(0);
  }

  @Test
  void valuesWithinAbsolutePlusRelativeTolerancePass() {
    GoldenCase golden = expecting(new double[] {1, 100, Double.NaN}, null, new GoldenCase.Tolerance(0.01, 0.001, 0));

    assertThat(verdict(golden, ActualOutput.numbers("y", new long[] {3}, new double[] {1.0099, 100.109, Double.NaN})))
        .satisfies(v -> assertThat(v.passed()).as(v.detail()).isTrue());
    assertThat(verdict(golden, ActualOutput.numbers("y", new long[] {3}, new double[] {1, 100.2, Double.NaN})).detail())
        .isEqualTo("largest deviation 0.200 (element 1: 100.200, expected 100.000; allowed 0.110)");
    assertThat(verdict(golden, ActualOutput.numbers("y", new long[] {3}, new double[] {1, 100, 0})).passed()).isFalse();
  }

  @Test
  void topKComparesClassesRowByRowNotScores() {
    GoldenCase golden = expecting(new double[] {0.1, 0.7, 0.2, 0.6, 0.3, 0.1}, null, new GoldenCase.Tolerance(0, 0, 1));

    assertThat(verdict(golden, ActualOutput.numbers("y", new long[] {2, 3}, new double[] {0, 9, 1, 5, 1, 0})).passed())
        .isTrue();
    assertThat(verdict(golden, ActualOutput.numbers("y", new long[] {2, 3}, new double[] {0, 9, 1, 1, 5, 0})).detail())
        .isEqualTo("row 1: top-1 classes [1], expected [0]");
  }

  @Test
  void aShapeThatDiffersFailsEvenWithTheSameElements() {
    GoldenCase golden = expecting(new double[] {1, 2, 3, 4}, new long[] {2, 2}, GoldenCase.Tolerance.defaults());

    assertThat(verdict(golden, ActualOutput.numbers("y", new long[] {4, 1}, new double[] {1, 2, 3, 4})).detail())
        .isEqualTo("shape [4, 1], expected [2, 2]");
  }

  @Test
  void stringsMustBeEqualAndAMissingOutputIsNamed() {
    GoldenCase golden = new GoldenCase("c", List.of(), List.of(new GoldenCase.ExpectedOutput("label", new double[0],
        List.of("cat", "dog"), Optional.empty(), GoldenCase.Tolerance.defaults())));

    assertThat(verdict(golden, ActualOutput.strings("label", new long[] {2}, List.of("cat", "dog"))).passed()).isTrue();
    assertThat(verdict(golden, ActualOutput.strings("label", new long[] {1}, List.of("cat"))).detail())
        .isEqualTo("element 1: nothing, expected \"dog\"");
    assertThat(verdict(golden, ActualOutput.strings("other", new long[] {1}, List.of("cat"))).detail())
        .isEqualTo("the answer has no output label");
  }
}
