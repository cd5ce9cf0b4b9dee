package io.junction.server.routing;

/**
 * What the feedback so far says about a business outcome of one variant against another, for canaries
 * judged on outcomes. Implemented over the outcome tracker, so routing does not depend on it.
 */
@FunctionalInterface
public interface OutcomeEvidence {
  /** No feedback at all: every business SLO holds its canary. */
  OutcomeEvidence NONE = (route, outcome, variant, baseline, confidence) ->
      new Difference(0, 0, Double.NaN, Double.NaN, Double.NaN);

  /**
   * @param variantCount values of the variant
   * @param baselineCount values of the baseline
   * @param difference the variant's mean minus the baseline's
   * @param low the difference's confidence interval, low end (NaN while it cannot be computed)
   * @param high its high end
   */
  record Difference(long variantCount, long baselineCount, double difference, double low, double high) {}

  Difference compare(String route, String outcome, String variant, String baseline, double confidence);
}
