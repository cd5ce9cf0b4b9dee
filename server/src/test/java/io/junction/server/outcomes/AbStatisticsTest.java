package io.junction.server.outcomes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The statistics of A/B outcomes against known answers and, over many seeds, their error rates. */
class AbStatisticsTest {
  private static OutcomeSummary conversions(SplittableRandom random, int n, double rate) {
    OutcomeAccumulator a = new OutcomeAccumulator();
    for (int i = 0; i < n; i++) {
      a.add(random.nextDouble() < rate ? 1 : 0);
    }
    return a.summary();
  }

  private static OutcomeSummary revenue(SplittableRandom random, int n, double mean, double sd) {
    OutcomeAccumulator a = new OutcomeAccumulator();
    for (int i = 0; i < n; i++) {
      // Box-Muller: normal values from uniform ones.
      double u = 1 - random.nextDouble();
      double v = random.nextDouble();
      a.add(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
    return a.summary();
  }

  @Test
  void twelvePercentBeatsTenPercentOnceThereIsEnoughTraffic() {
    SplittableRandom random = new SplittableRandom(12);
    OutcomeSummary a = conversions(random, 10_000, 0.10);
    OutcomeSummary b = conversions(random, 10_000, 0.12);
    AbStatistics.Comparison c = AbStatistics.compare(b, a, 0.95);
    assertThat(c.test()).isEqualTo("two-proportion z");
    assertThat(c.pValue()).isLessThan(0.05);
    assertThat(c.significant()).isTrue();
    assertThat(c.difference()).isCloseTo(0.02, within(0.01));
    assertThat(c.interval().low()).isPositive();
    assertThat(c.note()).isEmpty();
  }

  @Test
  void withLittleTrafficTheSameDifferenceIsNotYetSignificant() {
    SplittableRandom random = new SplittableRandom(7);
    AbStatistics.Comparison c = AbStatistics.compare(conversions(random, 200, 0.12), conversions(random, 200, 0.10), 0.95);
    assertThat(c.significant()).isFalse();
    assertThat(c.interval().low()).isNegative();
  }

  @Test
  void equalConversionRatesAreCalledDifferentAboutFivePercentOfTheTime() {
    int seeds = 400;
    int falsePositives = 0;
    for (int seed = 0; seed < seeds; seed++) {
      SplittableRandom random = new SplittableRandom(1000 + seed);
      if (AbStatistics.compare(conversions(random, 2_000, 0.10), conversions(random, 2_000, 0.10), 0.95).significant()) {
        falsePositives++;
      }
    }
    assertThat(falsePositives / (double) seeds).as("false-positive rate at 95 %% confidence").isBetween(0.02, 0.08);
  }

  @Test
  void welchFindsAHigherMeanAndKeepsItsFalsePositiveRate() {
    SplittableRandom random = new SplittableRandom(3);
    AbStatistics.Comparison c = AbStatistics.compare(revenue(random, 500, 5.5, 2), revenue(random, 400, 5.0, 3), 0.95);
    assertThat(c.test()).isEqualTo("Welch t");
    assertThat(c.significant()).isTrue();
    assertThat(c.difference()).isCloseTo(0.5, within(0.4));

    int seeds = 300;
    int falsePositives = 0;
    for (int seed = 0; seed < seeds; seed++) {
      SplittableRandom r = new SplittableRandom(5000 + seed);
      if (AbStatistics.compare(revenue(r, 200, 5, 2), revenue(r, 150, 5, 4), 0.95).significant()) {
        falsePositives++;
      }
    }
    assertThat(falsePositives / (double) seeds).as("false-positive rate at 95 %% confidence").isBetween(0.02, 0.08);
  }

  @Test
  void intervalsMatchTheirTextbookValues() {
    // Wilson score interval of 50 successes in 100 at 95 %: [0.4038, 0.5962].
    AbStatistics.Interval w = AbStatistics.meanInterval(new OutcomeSummary(100, 0.5, 0.2525, true), 0.95);
    assertThat(w.low()).isCloseTo(0.4038, within(1e-4));
    assertThat(w.high()).isCloseTo(0.5962, within(1e-4));
    // No successes in 10: the interval still reaches up to 0.2775 rather than collapsing to 0.
    AbStatistics.Interval none = AbStatistics.meanInterval(new OutcomeSummary(10, 0, 0, true), 0.95);
    assertThat(none.low()).isCloseTo(0, within(1e-12));
    assertThat(none.high()).isCloseTo(0.2775, within(1e-4));
    // Mean 10, variance 4, n 16: t(15, 0.975) = 2.1314, half width 2.1314 * 2 / 4.
    AbStatistics.Interval t = AbStatistics.meanInterval(new OutcomeSummary(16, 10, 4, false), 0.95);
    assertThat(t.low()).isCloseTo(10 - 1.0657, within(1e-3));
    assertThat(t.high()).isCloseTo(10 + 1.0657, within(1e-3));
    assertThat(AbStatistics.z(0.95)).isCloseTo(1.95996, within(1e-4));
  }

  @Test
  void smallSamplesCarryANote() {
    AbStatistics.Comparison c = AbStatistics.compare(new OutcomeSummary(20, 0.1, 0.09, true),
        new OutcomeSummary(20, 0.05, 0.05, true), 0.95);
    assertThat(c.note()).startsWith("sample too small");
    AbStatistics.Comparison none = AbStatistics.compare(OutcomeSummary.EMPTY, new OutcomeSummary(5, 0.2, 0.2, true), 0.95);
    assertThat(none.pValue()).isNaN();
    assertThat(none.significant()).isFalse();
    assertThat(none.note()).isEqualTo("no values yet for one of the variants");
  }

  @Test
  void theLedgerForgetsOldRequestsAndTheOldestFirst() {
    long[] now = {0};
    RequestLedger ledger = new RequestLedger(3, Duration.ofSeconds(10), () -> now[0]);
    ledger.record("r1", "scorer", "a");
    ledger.record("r2", "scorer", "b");
    now[0] = 5_000;
    ledger.record("r3", "scorer", "a");
    ledger.record("r4", "scorer", "b"); // capacity 3: r1 goes
    assertThat(ledger.find("r1")).isEmpty();
    assertThat(ledger.find("r2")).map(RequestLedger.Assignment::variant).contains("b");
    now[0] = 12_000;
    RequestLedger.Assignment[] found = new RequestLedger.Assignment[1];
    assertThat(ledger.find("r2", found)).isEqualTo(RequestLedger.Lookup.EXPIRED);
    assertThat(ledger.find("r3", found)).isEqualTo(RequestLedger.Lookup.FOUND);
    assertThat(ledger.find("nope", found)).isEqualTo(RequestLedger.Lookup.UNKNOWN);
  }
}
