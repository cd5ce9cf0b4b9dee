package io.junction.server.routing;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A progressive rollout of one variant of a route against a baseline variant: the canary's weight goes
 * through {@code steps} (percent of the two variants' traffic), each held for at least
 * {@code minRequests} canary requests and {@code minSeconds}; a step that breaches an SLO rolls the
 * canary back to 0 % at once.
 *
 * @param maxErrorRateIncrease how much the canary's error rate may exceed the baseline's (0.01 = one
 *     point)
 * @param maxP99Ratio how many times the baseline's p99 latency the canary's may be
 * @param businessSlo a business outcome the canary must not be worse at, when set
 */
public record Canary(String variant, String baseline, List<Double> steps, long minRequests, double minSeconds,
    double maxErrorRateIncrease, double maxP99Ratio, Optional<BusinessSlo> businessSlo) {
  /**
   * Promotion needs the canary's {@code outcome} shown, at {@code confidence}, to be at most
   * {@code maxDecrease} below the baseline's; shown to be further below, the canary is rolled back.
   *
   * @param minSamples values per variant before the outcome is judged
   */
  public record BusinessSlo(String outcome, double maxDecrease, double confidence, long minSamples) {
    public BusinessSlo {
      Objects.requireNonNull(outcome, "outcome");
      if (outcome.isBlank() || !(maxDecrease >= 0) || !(confidence > 0 && confidence < 1) || minSamples < 2) {
        throw new IllegalArgumentException("a business_slo needs an outcome, max_decrease >= 0, confidence in (0, 1) "
            + "and min_samples >= 2");
      }
    }
  }

  /** A canary judged on errors and latency alone. */
  public Canary(String variant, String baseline, List<Double> steps, long minRequests, double minSeconds,
      double maxErrorRateIncrease, double maxP99Ratio) {
    this(variant, baseline, steps, minRequests, minSeconds, maxErrorRateIncrease, maxP99Ratio, Optional.empty());
  }

  public Canary {
    Objects.requireNonNull(businessSlo, "businessSlo");
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
