package io.junction.server.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.junction.proto.admin.v1.RouteSpec;
import io.junction.server.errors.InvalidInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrafficRouterTest {
  /** Chi-square critical value for 2 degrees of freedom at p = 0.001: a correct router fails 1 in 1000 runs. */
  private static final double CHI2_2DOF_P001 = 13.82;
  private static final int DECISIONS = 20_000;

  private static Route route(double... weights) {
    String[] names = {"a", "b", "c"};
    List<Variant> variants = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      variants.add(new Variant(names[i], "m", Integer.toString(i + 1), weights[i]));
    }
    List<Rule> rules = weights.length == 3 ? List.of(new Rule("X-Tenant", "acme", "c")) : List.of();
    return new Route("r", variants, rules);
  }

  private static double chiSquare(Map<String, Integer> counts, Route route, int n) {
    double total = route.totalWeight();
    double chi = 0;
    for (Variant v : route.variants()) {
      double expected = n * v.weight() / total;
      double diff = counts.getOrDefault(v.name(), 0) - expected;
      chi += diff * diff / expected;
    }
    return chi;
  }

  @Test
  void weightedSharesFollowTheWeights() {
    Route route = route(70, 20, 10);
    SplittableRandom random = new SplittableRandom(42);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < DECISIONS; i++) {
      RouteDecision d = TrafficRouter.decide(route, Map.<String, String>of()::get, null, "", random.nextDouble());
      assertThat(d.reason()).isEqualTo("weighted");
      counts.merge(d.variant().name(), 1, Integer::sum);
    }
    assertThat(chiSquare(counts, route, DECISIONS)).isLessThan(CHI2_2DOF_P001);
  }

  @Test
  void aKeyAlwaysGetsTheSameVariantAndKeysSpreadByWeight() {
    Route route = route(70, 20, 10);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < DECISIONS; i++) {
      String key = "user-" + i;
      Variant first = TrafficRouter.decide(route, Map.<String, String>of()::get, key, "", 0.0).variant();
      for (int again = 0; again < 3; again++) {
        RouteDecision d = TrafficRouter.decide(route, Map.<String, String>of()::get, key, "", 0.99);
        assertThat(d.variant()).isEqualTo(first);
        assertThat(d.reason()).isEqualTo("sticky");
      }
      counts.merge(first.name(), 1, Integer::sum);
    }
    assertThat(chiSquare(counts, route, DECISIONS)).isLessThan(CHI2_2DOF_P001);
    // The hash is a fixed function: the same answer on every replica and after restarts.
    assertThat(TrafficRouter.unitHash("r", "user-1")).isEqualTo(TrafficRouter.unitHash("r", "user-1"));
  }

  @Test
  void growingTheCanaryMovesOnlyKeysIntoIt() {
    Route before = new Route("r", List.of(new Variant("stable", "m", "1", 95), new Variant("canary", "m", "2", 5)), List.of());
    Route after = new Route("r", List.of(new Variant("stable", "m", "1", 90), new Variant("canary", "m", "2", 10)), List.of());
    int moved = 0;
    for (int i = 0; i < DECISIONS; i++) {
      String key = "k" + i;
      String was = TrafficRouter.decide(before, Map.<String, String>of()::get, key, "", 0).variant().name();
      String now = TrafficRouter.decide(after, Map.<String, String>of()::get, key, "", 0).variant().name();
      if (!was.equals(now)) {
        assertThat(was + "->" + now).isEqualTo("stable->canary");
        moved++;
      }
    }
    // 5 % of keys must move; binomial standard deviation ~31 keys, bounds ~6 deviations out.
    assertThat(moved).isBetween(DECISIONS * 5 / 100 - 200, DECISIONS * 5 / 100 + 200);
  }

  @Test
  void pinningVersionsAndRulesComeBeforeWeights() {
    Route route = route(70, 20, 10);
    assertThat(TrafficRouter.decide(route, Map.of("x-tenant", "acme")::get, "key", "", 0).variant().name()).isEqualTo("c");
    assertThat(TrafficRouter.decide(route, Map.of("x-tenant", "acme")::get, "key", "", 0).reason()).isEqualTo("rule");
    assertThat(TrafficRouter.decide(route, Map.of("x-tenant", "other")::get, null, "", 0).variant().name()).isEqualTo("a");
    RouteDecision pinned = TrafficRouter.decide(route, Map.of("x-tenant", "acme", "x-junction-variant", "b")::get, null, "", 0);
    assertThat(pinned.variant().name()).isEqualTo("b");
    assertThat(pinned.reason()).isEqualTo("pinned");
    RouteDecision byVersion = TrafficRouter.decide(route, Map.of("x-tenant", "acme")::get, null, "2", 0);
    assertThat(byVersion.variant().name()).isEqualTo("b");
    assertThat(byVersion.reason()).isEqualTo("version");
    assertThatThrownBy(() -> TrafficRouter.decide(route, Map.of("x-junction-variant", "zz")::get, null, "", 0))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("route 'r' has no variant 'zz'");
    assertThatThrownBy(() -> TrafficRouter.decide(route, Map.<String, String>of()::get, null, "9", 0))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("no variant serving version 9");
  }

  @Test
  void zeroWeightVariantsGetNoWeightedTraffic() {
    Route route = route(1, 0, 0);
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 1000; i++) {
      assertThat(TrafficRouter.decide(route, Map.<String, String>of()::get, null, "", random.nextDouble()).variant().name()).isEqualTo("a");
    }
    assertThat(TrafficRouter.decide(route, Map.<String, String>of()::get, null, "", 0.9999999999).variant().name()).isEqualTo("a");
  }

  @Test
  void invalidRoutesSayWhatIsWrong() {
    assertThatThrownBy(() -> route(0, 0)).hasMessageContaining("weights of its variants sum to 0.0");
    assertThatThrownBy(() -> new Route("r", List.of(new Variant("a", "m", "", 1), new Variant("a", "m", "", 1)), List.of()))
        .hasMessageContaining("two variants named 'a'");
    assertThatThrownBy(() -> new Route("r", List.of(new Variant("a", "m", "", 1)), List.of(new Rule("h", "v", "b"))))
        .hasMessageContaining("names variant 'b'");
    assertThatThrownBy(() -> new Variant("a", "m", "", -1)).hasMessageContaining("weight -1.0");
    // A rule on a header no call can carry would fail every call of its route: refused where the route is made.
    assertThatThrownBy(() -> new Rule("Bad Header", "v", "a")).hasMessageContaining("'bad header' is not a gRPC "
        + "metadata key");
    assertThatThrownBy(() -> new Rule(":path", "v", "a")).hasMessageContaining("is not a gRPC metadata key");
    assertThatThrownBy(() -> new Rule("x-tenant-bin", "v", "a")).hasMessageContaining("binary metadata");
    assertThatThrownBy(() -> new Rule("grpc-timeout", "v", "a")).hasMessageContaining("reserved by gRPC");
    assertThat(new Rule("X-Tenant.id_2", "v", "a").header()).isEqualTo("x-tenant.id_2");
    RouteTable table = RouteTable.of(List.of(route(1, 1)));
    assertThatThrownBy(() -> table.validate(Set.of("x")::contains))
        .hasMessageContaining("names model 'm', which is not in the model repository");
    assertThatThrownBy(() -> table.validate(Set.of("m", "r")::contains)).hasMessageContaining("has the name of a model");
    assertThat(table.validate(Set.of("m")::contains)).isSameAs(table);
  }

  @Test
  void routesFileParses() {
    RouteTable table = RoutesFile.parse("""
        routes:
          - name: classifier
            variants:
              - { name: stable, model: mlp, version: 1, weight: 95 }
              - { name: canary, model: mlp, version: "2", weight: 5 }
            rules:
              - { header: x-tenant, value: acme, variant: canary }
        """);
    Route r = table.route("classifier").orElseThrow();
    assertThat(r.variants()).containsExactly(new Variant("stable", "mlp", "1", 95), new Variant("canary", "mlp", "2", 5));
    assertThat(r.rules()).containsExactly(new Rule("x-tenant", "acme", "canary"));
    assertThatThrownBy(() -> RoutesFile.parse("routes:\n  - name: x\n    variants:\n      - { name: a, model: m }\n"))
        .hasMessageContaining("route 'x' variant 'a' needs a weight");
    assertThatThrownBy(() -> RoutesFile.parse("routes:\n  - name: x\n    variants:\n      - { name: a, model: m, wieght: 1 }\n"))
        .as("a misspelt key is an error, not ignored").hasMessageContaining("route 'x'", "wieght");
    assertThatThrownBy(() -> RoutesFile.parse("routes:\n  - name: x\n    variants:\n      - { name: a, model: m, weight: lots }\n"))
        .hasMessageContaining("route 'x'", "lots");
    assertThatThrownBy(() -> RoutesFile.parse("routes: [ { name: x, variants: [ ] } ]"))
        .hasMessageContaining("route 'x' has no variants");
    assertThatThrownBy(() -> RoutesFile.parse("routes: !!java.util.Date {}")).hasMessageContaining("not valid YAML");
    assertThat(RoutesFile.parse("").routes()).isEmpty();
  }

  @Test
  void theRoutesFileAndTheAdminApiShareOneMappingWithItsDefaults() {
    Route r = RoutesFile.parse("""
        routes:
          - name: classifier
            variants:
              - { name: stable, model: mlp, version: 1, weight: 95 }
              - { name: canary, model: mlp, version: 2, weight: 5 }
            canary: { variant: canary, baseline: stable, steps: [5, 50, 100], min_seconds: 30 }
            shadow: { model: mlp, version: 3 }
        """).route("classifier").orElseThrow();
    assertThat(r.canary()).contains(new Canary("canary", "stable", List.of(5.0, 50.0, 100.0), 100, 30, 0.01, 2.0));
    assertThat(r.shadow()).contains(new Shadow("mlp", "3", 1.0));
    assertThat(RouteSpecs.toDomain(RouteSpecs.toSpec(r))).as("domain -> spec -> domain keeps everything").isEqualTo(r);
    RouteSpec spec = RouteSpecs.toSpec(r);
    assertThat(spec.getCanary().getMinRequests()).isEqualTo(100);
    assertThat(spec.getShadow().getFraction()).isEqualTo(1.0);
    assertThatThrownBy(() -> RouteSpecs.toDomain(spec.toBuilder().setCanary(spec.getCanary().toBuilder().clearSteps()).build()))
        .hasMessageContaining("route 'classifier'", "canary needs steps");
    assertThatThrownBy(() -> RouteSpecs.toDomain(spec.toBuilder().setShadow(spec.getShadow().toBuilder().setFraction(2)).build()))
        .hasMessageContaining("route 'classifier'", "shadow fraction must be in (0, 1]");
  }
}
