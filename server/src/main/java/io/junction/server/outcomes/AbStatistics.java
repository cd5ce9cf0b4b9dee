package io.junction.server.outcomes;

import org.apache.commons.statistics.distribution.NormalDistribution;
import org.apache.commons.statistics.distribution.TDistribution;

/**
 * Confidence intervals of one variant's outcome and the comparison of two variants: a two-proportion
 * z-test for binary outcomes (conversions), Welch's t-test for real values (revenue). Two-sided tests;
 * intervals at the given confidence (0.95 for 95 %).
 */
public final class AbStatistics {
  /** Below this many successes or failures per variant, the normal approximation of a proportion is poor. */
  static final long MIN_EXPECTED = 10;
  /** Below this many values per variant, a real-valued mean's interval is little more than a guess. */
  static final long MIN_VALUES = 30;

  private static final NormalDistribution NORMAL = NormalDistribution.of(0, 1);

  private AbStatistics() {}

  /** An interval of values, [low, high]. */
  public record Interval(double low, double high) {}

  /**
   * How a variant compares with the control.
   *
   * @param test {@code two-proportion z} or {@code Welch t}
   * @param difference the variant's mean minus the control's
   * @param interval the difference's confidence interval
   * @param pValue two-sided p-value of "no difference"; NaN when it cannot be computed
   * @param significant whether the p-value is below 1 - confidence
   * @param note empty, or why the figures should not be trusted yet (too few values)
   */
  public record Comparison(String test, double difference, Interval interval, double pValue, boolean significant,
      String note) {}

  /** The confidence interval of a variant's mean: Wilson's score interval for a proportion, else t. */
  public static Interval meanInterval(OutcomeSummary s, double confidence) {
    if (s.count() == 0) {
      return new Interval(Double.NaN, Double.NaN);
    }
    if (s.binary()) {
      double z = z(confidence);
      double n = s.count();
      double p = s.mean();
      double denominator = 1 + z * z / n;
      double centre = (p + z * z / (2 * n)) / denominator;
      double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator;
      return new Interval(Math.max(0, centre - half), Math.min(1, centre + half));
    }
    if (s.count() < 2) {
      return new Interval(Double.NaN, Double.NaN);
    }
    double half = t(confidence, s.count() - 1) * Math.sqrt(s.variance() / s.count());
    return new Interval(s.mean() - half, s.mean() + half);
  }

  /** {@code variant} against {@code control}. */
  public static Comparison compare(OutcomeSummary variant, OutcomeSummary control, double confidence) {
    double difference = variant.mean() - control.mean();
    if (variant.binary() && control.binary()) {
      return twoProportions(variant, control, confidence, difference);
    }
    return welch(variant, control, confidence, difference);
  }

  private static Comparison twoProportions(OutcomeSummary a, OutcomeSummary b, double confidence, double difference) {
    double n1 = a.count();
    double n2 = b.count();
    if (n1 == 0 || n2 == 0) {
      return undecided("two-proportion z", difference, "no values yet for one of the variants");
    }
    double p1 = a.mean();
    double p2 = b.mean();
    double pooled = (a.successes() + b.successes()) / (n1 + n2);
    double pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
    double pValue = pooledSe == 0 ? (difference == 0 ? 1 : 0) : 2 * NORMAL.survivalProbability(Math.abs(difference) / pooledSe);
    double se = Math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2);
    double half = z(confidence) * se;
    long fewest = Math.min(Math.min(a.successes(), a.count() - a.successes()),
        Math.min(b.successes(), b.count() - b.successes()));
    String note = fewest < MIN_EXPECTED ? "sample too small: fewer than " + MIN_EXPECTED
        + " successes or failures in a variant, so the normal approximation is rough" : "";
    return new Comparison("two-proportion z", difference, new Interval(difference - half, difference + half), pValue,
        pValue < 1 - confidence, note);
  }

  private static Comparison welch(OutcomeSummary a, OutcomeSummary b, double confidence, double difference) {
    if (a.count() < 2 || b.count() < 2) {
      return undecided("Welch t", difference, "need at least two values per variant");
    }
    double v1 = a.variance() / a.count();
    double v2 = b.variance() / b.count();
    double se = Math.sqrt(v1 + v2);
    if (se == 0) {
      return new Comparison("Welch t", difference, new Interval(difference, difference), difference == 0 ? 1 : 0,
          difference != 0, "no variance in either variant");
    }
    double df = (v1 + v2) * (v1 + v2) / (v1 * v1 / (a.count() - 1) + v2 * v2 / (b.count() - 1));
    double tStat = difference / se;
    double pValue = 2 * TDistribution.of(df).survivalProbability(Math.abs(tStat));
    double half = t(confidence, df) * se;
    String note = Math.min(a.count(), b.count()) < MIN_VALUES
        ? "sample too small: fewer than " + MIN_VALUES + " values in a variant" : "";
    return new Comparison("Welch t", difference, new Interval(difference - half, difference + half), pValue,
        pValue < 1 - confidence, note);
  }

  private static Comparison undecided(String test, double difference, String note) {
    return new Comparison(test, difference, new Interval(Double.NaN, Double.NaN), Double.NaN, false, note);
  }

  /** The two-sided critical value of the standard normal at this confidence (1.96 for 0.95). */
  static double z(double confidence) {
    return NORMAL.inverseSurvivalProbability((1 - confidence) / 2);
  }

  private static double t(double confidence, double df) {
    return TDistribution.of(df).inverseSurvivalProbability((1 - confidence) / 2);
  }
}
