package io.junction.golden;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** Compares an answer with a golden case: what passed, and for what failed, where and by how much. */
public final class GoldenComparison {
  /** One output's verdict; {@code detail} says the largest deviation, or why it failed. */
  public record OutputVerdict(String output, boolean passed, String detail) {}

  private GoldenComparison() {}

  /** One verdict per expected output, in the golden case's order. */
  public static List<OutputVerdict> compare(GoldenCase golden, List<ActualOutput> answer) {
    List<OutputVerdict> verdicts = new ArrayList<>();
    for (GoldenCase.ExpectedOutput expected : golden.expected()) {
      ActualOutput actual = answer.stream().filter(o -> o.name().equals(expected.name())).findFirst().orElse(null);
      verdicts.add(actual == null ? new OutputVerdict(expected.name(), false, "the answer has no output " + expected.name())
          : compare(expected, actual));
    }
    return verdicts;
  }

  /** Whether every verdict passed. */
  public static boolean allPassed(List<OutputVerdict> verdicts) {
    return verdicts.stream().allMatch(OutputVerdict::passed);
  }

  private static OutputVerdict compare(GoldenCase.ExpectedOutput expected, ActualOutput actual) {
    if (expected.shape().isPresent() && !Arrays.equals(expected.shape().get(), actual.shape())) {
      return new OutputVerdict(expected.name(), false, "shape " + Arrays.toString(actual.shape()) + ", expected "
          + Arrays.toString(expected.shape().get()));
    }
    if (expected.isStrings()) {
      return strings(expected, actual.strings());
    }
    double[] values = actual.values();
    double[] wanted = expected.values();
    if (values.length != wanted.length) {
      return new OutputVerdict(expected.name(), false, "has " + values.length + " elements, expected " + wanted.length);
    }
    return expected.tolerance().topK() > 0 ? topK(expected, wanted, actual.shape(), values)
        : close(expected, wanted, values);
  }

  private static OutputVerdict close(GoldenCase.ExpectedOutput expected, double[] e, double[] actual) {
    GoldenCase.Tolerance tolerance = expected.tolerance();
    int worst = -1;
    double worstExcess = Double.NEGATIVE_INFINITY;
    double maxAbs = 0;
    for (int i = 0; i < e.length; i++) {
      double diff;
      double excess;
      if (actual[i] == e[i] || (Double.isNaN(actual[i]) && Double.isNaN(e[i]))) {
        diff = 0; // equal, the same infinity, or NaN where NaN is expected
        excess = Double.NEGATIVE_INFINITY;
      } else if (!Double.isFinite(actual[i]) || !Double.isFinite(e[i])) {
        diff = Double.POSITIVE_INFINITY; // no tolerance makes NaN or an infinity close to anything else
        excess = Double.POSITIVE_INFINITY;
      } else {
        diff = Math.abs(actual[i] - e[i]);
        excess = diff - (tolerance.absolute() + tolerance.relative() * Math.abs(e[i]));
      }
      maxAbs = Math.max(maxAbs, diff);
      if (worst < 0 || excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    if (e.length == 0) {
      return new OutputVerdict(expected.name(), true, "empty, as expected");
    }
    if (worstExcess <= 0) {
      return new OutputVerdict(expected.name(), true, String.format(Locale.ROOT, "max |diff| %.3g", maxAbs));
    }
    return new OutputVerdict(expected.name(), false, String.format(Locale.ROOT,
        "largest deviation %.3g (element %d: %.6g, expected %.6g; allowed %.3g)", Math.abs(actual[worst] - e[worst]),
        worst, actual[worst], e[worst], tolerance.absolute() + tolerance.relative() * Math.abs(e[worst])));
  }

  /** Row by row along the last dimension: the same k best classes (as sets). */
  private static OutputVerdict topK(GoldenCase.ExpectedOutput expected, double[] wanted, long[] shape, double[] actual) {
    int classes = shape.length == 0 ? actual.length : (int) shape[shape.length - 1];
    if (classes == 0) {
      return new OutputVerdict(expected.name(), true, "no classes, as expected");
    }
    int k = Math.min(expected.tolerance().topK(), classes);
    for (int row = 0; row * classes < actual.length; row++) {
      Set<Integer> want = top(wanted, row * classes, classes, k);
      Set<Integer> got = top(actual, row * classes, classes, k);
      if (!want.equals(got)) {
        return new OutputVerdict(expected.name(), false, "row " + row + ": top-" + k + " classes " + got + ", expected "
            + want);
      }
    }
    return new OutputVerdict(expected.name(), true, "top-" + k + " classes agree on every row");
  }

  private static Set<Integer> top(double[] scores, int from, int n, int k) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    order.sort((a, b) -> Double.compare(scores[from + b], scores[from + a]));
    return new TreeSet<>(order.subList(0, k));
  }

  private static OutputVerdict strings(GoldenCase.ExpectedOutput expected, List<String> actual) {
    List<String> wanted = expected.strings();
    for (int i = 0; i < Math.max(actual.size(), wanted.size()); i++) {
      String a = i < actual.size() ? actual.get(i) : null;
      String e = i < wanted.size() ? wanted.get(i) : null;
      if (!Objects.equals(a, e)) {
        return new OutputVerdict(expected.name(), false, "element " + i + ": " + quoted(a) + ", expected " + quoted(e));
      }
    }
    return new OutputVerdict(expected.name(), true, "equal");
  }

  private static String quoted(String s) {
    return s == null ? "nothing" : "\"" + s + "\"";
  }
}
