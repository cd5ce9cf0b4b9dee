package io.junction.server.outcomes;

/** Running count, mean and variance of one outcome of one variant (Welford's method); thread-safe. */
final class OutcomeAccumulator {
  private long count;
  private double mean;
  private double m2;
  private double sum;
  private boolean binary = true;

  synchronized void add(double value) {
    count++;
    sum += value;
    double delta = value - mean;
    mean += delta / count;
    m2 += delta * (value - mean);
    binary &= value == 0 || value == 1;
  }

  synchronized OutcomeSummary summary() {
    return new OutcomeSummary(count, mean, count > 1 ? m2 / (count - 1) : 0, binary);
  }

  synchronized long count() {
    return count;
  }

  synchronized double sum() {
    return sum;
  }
}
