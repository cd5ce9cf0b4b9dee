package io.junction.server.routing;

import java.util.List;
import java.util.Objects;

/**
 * A progressive rollout of one variant of a route against a baseline variant: the canary's weight goes
 * through {@code steps} (percent of the two variants' traffic), each held for at least
 * {@code minRequests} canary requests and {@code minSeconds}; a step that breaches an SLO rolls the
 * canary back to 0 % at once.
 *
 * @param maxErrorRateIncrease how much the canary's error rate may exceed the baseline's (0.01 = one
 *     point)
 * @param maxP99Ratio how many times the baseline's p99 latency the canary's may be
 */
public record Canary(String variant, String baseline, List<Double> steps, long minRequests, double minSeconds,
    double maxErrorRateIncrease, double maxP99Ratio) {
  public Canary {
    Objects.requireNonNull(variant, "variant");
    Objects.requireNonNull(baseline, "baseline");
    steps = List.copyOf(steps);
    if (variant.equals(baseline)) {
      throw new IllegalArgumentException("the canary and its baseline must be different variants");
    }
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a canary needs steps, e.g. [5, 25, 50, 100]");
    }
    double previous = 0;
    for (double s : steps) {
      if (!(s > previous) || s > 100) {
        throw new IllegalArgumentException("canary steps must rise within (0, 100], got " + steps);
      }
      previous = s;
    }
    if (minRequests < 1 || minSeconds < 0 || !(maxErrorRateIncrease >= 0) || !(maxP99Ratio > 0)) {
      throw new IllegalArgumentException("canary needs min_requests >= 1, min_seconds >= 0, max_error_rate_increase "
          + ">= 0 and max_p99_ratio > 0");
    }
  }
}
