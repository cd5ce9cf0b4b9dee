package io.junction.loadtest;

import java.util.List;
import java.util.Map;

/**
 * What a spike did: error rates before, during and after it, the p99 before and at worst, and how many
 * seconds after the spike ended the per-second p99 came back within twice its value before the spike
 * (-1 if it did not within the run).
 */
record SpikeAnalysis(double errorRateBefore, double errorRateDuring, double errorRateAfter, double p99BeforeMs,
    double worstP99Ms, long recoverySeconds) {

  static SpikeAnalysis of(List<Map<String, Object>> series, LoadSchedule schedule, Map<Long, Long> errorsPerSecond) {
    long spikeStart = (long) schedule.spikeStart();
    long spikeEnd = (long) Math.ceil(schedule.spikeEnd());
    long[] answered = new long[3];
    long[] failed = new long[3];
    double p99Before = 0;
    int beforeSeconds = 0;
    double worst = 0;
    long recovered = -1;
    for (Map<String, Object> point : series) {
      long second = ((Number) point.get("second")).longValue();
      long count = ((Number) point.get("count")).longValue();
      double p99 = ((Number) point.get("p99")).doubleValue() / 1e6;
      int phase = second < spikeStart ? 0 : second < spikeEnd ? 1 : 2;
      answered[phase] += count;
      failed[phase] += errorsPerSecond.getOrDefault(second, 0L);
      worst = Math.max(worst, p99);
      if (phase == 0 && second > 0) { // the first second carries connection set-up and JIT
        p99Before += p99;
        beforeSeconds++;
      }
    }
    p99Before = beforeSeconds == 0 ? 0 : p99Before / beforeSeconds;
    for (Map<String, Object> point : series) {
      long second = ((Number) point.get("second")).longValue();
      double p99 = ((Number) point.get("p99")).doubleValue() / 1e6;
      if (second >= spikeEnd && recovered < 0 && p99Before > 0 && p99 <= 2 * p99Before) {
        recovered = second - spikeEnd;
      }
    }
    return new SpikeAnalysis(rate(failed[0], answered[0]), rate(failed[1], answered[1]), rate(failed[2], answered[2]),
        p99Before, worst, recovered);
  }

  private static double rate(long failed, long answered) {
    return answered == 0 ? 0 : (double) failed / answered;
  }
}
