package io.junction.server.outcomes;

/**
 * What one variant's values of one outcome add up to.
 *
 * @param count values recorded
 * @param mean their mean (the conversion rate when binary)
 * @param variance their sample variance (n - 1), 0 below two values
 * @param binary whether every value was 0 or 1 (a conversion); such outcomes are compared as
 *     proportions
 */
public record OutcomeSummary(long count, double mean, double variance, boolean binary) {
  public static final OutcomeSummary EMPTY = new OutcomeSummary(0, 0, 0, true);

  /** Successes of a binary outcome. */
  public long successes() {
    return Math.round(mean * count);
  }
}
