package io.junction.loadtest.profile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class ProfileAnalysisTest {
  private static ProfilePoint point(int instances, long delay, int batch, int callers, double rate, double p99,
      long failures, double rowsPerExecution, double computeMs) {
    return new ProfilePoint(instances, delay, batch, callers, rate * batch, rate, p99 / 3, p99 / 2, p99, 100, failures,
        100, 0.1, computeMs, rowsPerExecution, 1000, 2000);
  }

  private static final ProfileAnalysis.Context BATCHING = new ProfileAnalysis.Context(64, true, "KIND_CPU", true, false, 1);

  @Test
  void theKneeIsTheMostThroughputWithinTheBudgetWithoutFailures() {
    List<ProfilePoint> points = List.of(
        point(1, -1, 1, 1, 1000, 2, 0, 1, 0.5),
        point(1, -1, 1, 8, 5000, 9, 0, 6.2, 0.5),
        point(1, -1, 1, 32, 9000, 40, 0, 20, 0.5), // over the budget
        point(2, -1, 1, 8, 8000, 8, 3, 5, 0.5), // failures
        point(2, -1, 1, 4, 6000, 6, 0, 3.1, 0.5));

    ProfileAnalysis a = ProfileAnalysis.of(points, 10, 99, BATCHING);

    assertThat(a.knee()).contains(points.get(4));
    assertThat(a.verdict()).startsWith("Knee: 6000 inferences/s at p99 6.00 ms (budget 10 ms) with 2 instance(s)");
    assertThat(a.suggestions()).extracting(ProfileAnalysis.Suggestion::field, ProfileAnalysis.Suggestion::value)
        .contains(Tuple.tuple("max_batch_size", "4"),
            Tuple.tuple("dynamic_batching.preferred_batch_size", "[ 4 ]"),
            Tuple.tuple("dynamic_batching.max_queue_delay_microseconds", "500"),
            Tuple.tuple("instance_group.count", "2"));
    assertThat(a.config()).isEqualTo("max_batch_size: 4\ndynamic_batching {\n  preferred_batch_size: [ 4 ]\n"
        + "  max_queue_delay_microseconds: 500\n}\ninstance_group [ { count: 2, kind: KIND_CPU } ]\n");
  }

  @Test
  void withoutMergingThereIsNoPreferredSizeAndTheDelayKeepsHalfTheHeadroom() {
    ProfileAnalysis a = ProfileAnalysis.of(List.of(point(1, -1, 2, 4, 3000, 9, 0, 2.1, 5)), 10, 99, BATCHING);

    assertThat(a.suggestions()).extracting(ProfileAnalysis.Suggestion::field, ProfileAnalysis.Suggestion::value)
        .contains(Tuple.tuple("dynamic_batching.preferred_batch_size", "(none)"),
            Tuple.tuple("dynamic_batching.max_queue_delay_microseconds", "500"));
  }

  @Test
  void aSweptDelayIsTakenFromTheKnee() {
    ProfileAnalysis.Context swept = new ProfileAnalysis.Context(64, true, "KIND_GPU", false, true, 1);
    List<ProfilePoint> points = List.of(point(-1, 0, 1, 16, 4000, 5, 0, 3, 1), point(-1, 800, 1, 16, 7000, 7, 0, 9, 1));

    ProfileAnalysis a = ProfileAnalysis.of(points, 10, 99, swept);

    assertThat(a.knee()).contains(points.get(1));
    assertThat(a.config()).contains("max_queue_delay_microseconds: 800").doesNotContain("instance_group");
  }

  @Test
  void noPointWithinTheBudgetSaysSoAndSuggestsNothing() {
    ProfileAnalysis a = ProfileAnalysis.of(List.of(point(1, -1, 1, 1, 100, 30, 0, 1, 20),
        point(1, -1, 1, 2, 150, 45, 0, 1, 20)), 10, 95, BATCHING);

    assertThat(a.knee()).isEmpty();
    assertThat(a.verdict()).isEqualTo("No point kept p95 within 10 ms without failures; the lowest was 15.00 ms "
        + "(1 instance(s), batch 1, concurrency 1): the model is slower than the budget on this server, or the budget "
        + "is too tight.");
    assertThat(a.suggestions()).isEmpty();
  }

  @Test
  void powersOfTwo() {
    assertThat(ProfileAnalysis.nextPowerOfTwo(1)).isEqualTo(1);
    assertThat(ProfileAnalysis.nextPowerOfTwo(5)).isEqualTo(8);
    assertThat(ProfileAnalysis.nearestPowerOfTwo(1.4)).isEqualTo(1);
    assertThat(ProfileAnalysis.nearestPowerOfTwo(5.9)).isEqualTo(4);
    assertThat(ProfileAnalysis.nearestPowerOfTwo(6.1)).isEqualTo(8);
  }
}
