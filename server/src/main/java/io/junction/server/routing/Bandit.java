package io.junction.server.routing;

import java.util.Objects;

/**
 * Weights set by Thompson sampling on a binary outcome (feedback): each variant gets the share of
 * traffic equal to the probability that it converts best, given its conversions so far, but never less
 * than {@code minShare}, so every variant keeps being measured.
 *
 * @param outcome the binary outcome in feedback, e.g. {@code click}
 * @param minShare the least share of traffic (0.05 = 5 %) any variant keeps
 * @param minSamples outcome values on the route before the weights move from the ones given
 */
public record Bandit(String outcome, double minShare, long minSamples) {
  public Bandit {
    Objects.requireNonNull(outcome, "outcome");
    if (outcome.isBlank() || !(minShare >= 0 && minShare < 1) || minSamples < 0) {
      throw new IllegalArgumentException("a bandit needs an outcome, min_share in [0, 1) and min_samples >= 0");
    }
  }
}
