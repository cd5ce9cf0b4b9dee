package io.junction.server.routing;

import io.junction.server.concurrent.NamedThreadFactory;
import io.junction.server.concurrent.Shutdown;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.commons.statistics.distribution.BetaDistribution;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the weights of routes with a {@link Bandit} on a timer ({@code junction-bandit}, which it owns):
 * each variant's share is the probability that it converts best, estimated by drawing from each
 * variant's Beta(1 + successes, 1 + failures) posterior {@code draws} times (Thompson sampling), lifted
 * to at least the bandit's minimum share. Weights it set are laid over route tables that come in later
 * (a routes-file edit elsewhere does not undo them) while the route's bandit is unchanged.
 */
public final class BanditController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BanditController.class);
  /** Weights closer than this (percentage points) to the current ones are not applied: no churn. */
  private static final double MIN_CHANGE = 0.5;

  private record Decision(Bandit bandit, Map<String, Double> weights) {}

  private final RouteRegistry routes;
  private final ConversionCounts counts;
  private final int draws;
  private final SplittableRandom random;
  private final Map<String, Decision> decisions = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("junction-bandit", true));

  /**
   * @param tick how often weights are recomputed
   * @param draws posterior draws per recomputation; more is smoother, 1000 is plenty
   * @param seed of the draws (tests fix it)
   */
  public BanditController(RouteRegistry routes, ConversionCounts counts, Duration tick, int draws, long seed,
      PrometheusRegistry metrics) {
    if (draws < 1) {
      throw new IllegalArgumentException("draws must be positive, got " + draws);
    }
    this.routes = routes;
    this.counts = counts;
    this.draws = draws;
    this.random = new SplittableRandom(seed);
    routes.overlay(this::keepWeights);
    GaugeWithCallback.builder().name("junction_bandit_weight")
        .help("Percent of a bandit route's traffic a variant gets now").labelNames("route", "variant")
        .callback(cb -> decisions.forEach((route, d) -> d.weights().forEach((v, w) -> cb.call(w, route, v))))
        .register(metrics);
    timer.scheduleWithFixedDelay(this::tick, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The weights the bandit set for a route, by variant; empty before it has enough feedback. */
  public Map<String, Double> weights(String route) {
    Decision d = decisions.get(route);
    return d == null ? Map.of() : d.weights();
  }

  private void tick() {
    try {
      decisions.keySet().removeIf(name -> routes.current().route(name).flatMap(Route::bandit).isEmpty());
      for (Route route : routes.current().routes().values()) {
        if (route.bandit().isPresent()) {
          reweigh(route, route.bandit().get());
        }
      }
    } catch (RuntimeException e) {
      log.error("bandit weighing failed; trying again at the next tick", e);
    }
  }

  private void reweigh(Route route, Bandit bandit) {
    Map<String, ConversionCounts.Tally> tallies = counts.of(route.name(), bandit.outcome());
    long trials = tallies.values().stream().mapToLong(ConversionCounts.Tally::trials).sum();
    if (trials < bandit.minSamples()) {
      return;
    }
    Map<String, Double> next = weights(route.variants(), tallies, bandit.minShare());
    Decision previous = decisions.get(route.name());
    boolean moved = previous == null || !previous.bandit().equals(bandit) || next.entrySet().stream()
        .anyMatch(e -> Math.abs(e.getValue() - previous.weights().getOrDefault(e.getKey(), 0.0)) >= MIN_CHANGE);
    if (!moved) {
      return;
    }
    decisions.put(route.name(), new Decision(bandit, next));
    try {
      routes.put(route.withWeights(next));
      log.debug("route '{}': bandit weights {} from {}", route.name(), next, tallies);
    } catch (IllegalArgumentException e) {
      log.error("route '{}': cannot set bandit weights {}: {}", route.name(), next, e.getMessage());
    }
  }

  /** Percent per variant: the minimum share, plus the rest split by the probability of being best. */
  Map<String, Double> weights(List<Variant> variants, Map<String, ConversionCounts.Tally> tallies, double minShare) {
    int k = variants.size();
    BetaDistribution[] posteriors = new BetaDistribution[k];
    for (int i = 0; i < k; i++) {
      ConversionCounts.Tally t = tallies.getOrDefault(variants.get(i).name(), new ConversionCounts.Tally(0, 0));
      posteriors[i] = BetaDistribution.of(1 + t.successes(), 1 + t.trials() - t.successes());
    }
    long[] wins = new long[k];
    for (int d = 0; d < draws; d++) {
      int best = 0;
      double bestValue = -1;
      for (int i = 0; i < k; i++) {
        double x = posteriors[i].inverseCumulativeProbability(random.nextDouble());
        if (x > bestValue) {
          bestValue = x;
          best = i;
        }
      }
      wins[best]++;
    }
    Map<String, Double> weights = new LinkedHashMap<>();
    for (int i = 0; i < k; i++) {
      double share = minShare + (1 - k * minShare) * wins[i] / (double) draws;
      weights.put(variants.get(i).name(), Math.round(share * 10_000) / 100.0);
    }
    return weights;
  }

  private RouteTable keepWeights(RouteTable table) {
    Map<String, Route> kept = null;
    for (Route r : table.routes().values()) {
      Decision d = decisions.get(r.name());
      if (d == null || r.bandit().isEmpty() || !r.bandit().get().equals(d.bandit())) {
        continue;
      }
      if (kept == null) {
        kept = new LinkedHashMap<>(table.routes());
      }
      kept.put(r.name(), r.withWeights(d.weights()));
    }
    return kept == null ? table : new RouteTable(kept);
  }

  @Override
  public void close() {
    Shutdown.now(timer, Duration.ofSeconds(10));
  }
}
