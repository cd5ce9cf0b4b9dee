package io.junction.server.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/** Thompson-sampling weights from conversion counts, and the routes they are laid over. */
class BanditControllerTest {
  private static final List<Variant> AB = List.of(new Variant("a", "m", "1", 50), new Variant("b", "m", "2", 50));

  private static Route banditRoute(double minShare, long minSamples) {
    return new Route("r", AB, List.of(), Optional.empty(), Optional.empty(),
        Optional.of(new Bandit("click", minShare, minSamples)));
  }

  @Test
  void weightsFollowTheProbabilityOfBeingBestAboveTheMinimumShare() {
    RouteRegistry routes = new RouteRegistry(name -> name.equals("m"), (name, version) -> true);
    try (BanditController bandit = new BanditController(routes, (r, o) -> Map.of(), Duration.ofHours(1), 2000, 1,
        new PrometheusRegistry())) {
      Map<String, Double> clear = bandit.weights(AB, Map.of("a", new ConversionCounts.Tally(100, 1000),
          "b", new ConversionCounts.Tally(150, 1000)), 0.05);
      assertThat(clear.get("b")).isGreaterThan(94.0);
      assertThat(clear.get("a")).isGreaterThanOrEqualTo(5.0).isLessThan(6.0);
      assertThat(clear.get("a") + clear.get("b")).isCloseTo(100.0, Assertions.within(0.02));

      Map<String, Double> even = bandit.weights(AB, Map.of("a", new ConversionCounts.Tally(100, 1000),
          "b", new ConversionCounts.Tally(100, 1000)), 0.05);
      assertThat(even.get("a")).isBetween(40.0, 60.0);

      Map<String, Double> unseen = bandit.weights(AB, Map.of(), 0.2);
      assertThat(unseen.get("a")).isBetween(40.0, 60.0);
    }
  }

  @Test
  void theBanditReweighsItsRouteOnceItHasEnoughFeedbackAndKeepsItsWeightsOverNewTables() {
    RouteRegistry routes = new RouteRegistry(name -> name.equals("m"), (name, version) -> true);
    routes.put(banditRoute(0.1, 100));
    Map<String, ConversionCounts.Tally>[] feedback = new Map[] {Map.of("a", new ConversionCounts.Tally(5, 50))};
    try (BanditController bandit = new BanditController(routes, (r, o) -> feedback[0], Duration.ofMillis(20), 1000, 7,
        new PrometheusRegistry())) {
      await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
          .until(() -> routes.current().route("r").orElseThrow().variant("a").orElseThrow().weight() == 50);
      feedback[0] = Map.of("a", new ConversionCounts.Tally(50, 500), "b", new ConversionCounts.Tally(150, 500));
      await().atMost(Duration.ofSeconds(5))
          .until(() -> routes.current().route("r").orElseThrow().variant("b").orElseThrow().weight() > 85);
      assertThat(routes.current().route("r").orElseThrow().variant("a").orElseThrow().weight()).isEqualTo(10.0);
      // A new table (a routes-file edit) with the same bandit keeps the bandit's weights.
      routes.put(banditRoute(0.1, 100));
      assertThat(routes.current().route("r").orElseThrow().variant("b").orElseThrow().weight()).isGreaterThan(85);
    }
  }

  @Test
  void aBanditNeedsTwoVariantsRoomForItsMinimumAndNoCanary() {
    assertThatThrownBy(() -> banditRoute(0.6, 10)).hasMessageContaining("min_share x variants <= 1");
    assertThatThrownBy(() -> new Route("r", AB, List.of(),
        Optional.of(new Canary("b", "a", List.of(50.0, 100.0), 1, 0, 0.01, 2)), Optional.empty(),
        Optional.of(new Bandit("click", 0.1, 10)))).hasMessageContaining("has a canary and a bandit");
  }
}
