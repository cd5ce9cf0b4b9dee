package io.junction.server.outcomes;

import java.util.List;
import java.util.Map;

/**
 * A route's business outcomes at one moment.
 *
 * @param outcomes per outcome name, one row per variant in the route's order
 * @param comparisons per outcome name, each variant after the first against the first
 */
public record RouteOutcomes(String route, double confidence, Map<String, List<VariantOutcome>> outcomes,
    Map<String, List<VariantComparison>> comparisons) {

  /** One variant's values of one outcome and the confidence interval of their mean. */
  public record VariantOutcome(String variant, OutcomeSummary summary, AbStatistics.Interval interval) {}

  /** A variant against the control. */
  public record VariantComparison(String variant, String control, AbStatistics.Comparison comparison) {}
}
