package io.junction.server.routing;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A logical model name that fans out to variants. Variants are kept in the order given: weighted and
 * sticky choices cut the unit interval in that order, so growing the last variant (the canary) moves
 * only keys into it.
 */
public record Route(String name, List<Variant> variants, List<Rule> rules, Optional<Canary> canary,
    Optional<Shadow> shadow, Optional<Bandit> bandit) {
  public Route(String name, List<Variant> variants, List<Rule> rules) {
    this(name, variants, rules, Optional.empty(), Optional.empty(), Optional.empty());
  }

  public Route(String name, List<Variant> variants, List<Rule> rules, Optional<Canary> canary,
      Optional<Shadow> shadow) {
    this(name, variants, rules, canary, shadow, Optional.empty());
  }

  public Route {
    Objects.requireNonNull(canary, "canary");
    Objects.requireNonNull(bandit, "bandit");
    Objects.requireNonNull(shadow, "shadow");
    Objects.requireNonNull(name, "name");
    variants = List.copyOf(variants);
    rules = List.copyOf(rules);
    if (name.isBlank()) {
      throw new IllegalArgumentException("a route needs a name");
    }
    if (variants.isEmpty()) {
      throw new IllegalArgumentException("route '" + name + "' has no variants");
    }
    Set<String> names = new HashSet<>();
    double total = 0;
    for (Variant v : variants) {
      if (!names.add(v.name())) {
        throw new IllegalArgumentException("route '" + name + "' has two variants named '" + v.name() + "'");
      }
      total += v.weight();
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("route '" + name + "': the weights of its variants sum to " + total
          + "; at least one must be positive");
    }
    if (canary.isPresent()) {
      for (String v : List.of(canary.get().variant(), canary.get().baseline())) {
        if (!names.contains(v)) {
          throw new IllegalArgumentException("route '" + name + "': its canary names variant '" + v
              + "', which the route does not have (it has " + names + ")");
        }
      }
    }
    if (bandit.isPresent()) {
      if (canary.isPresent()) {
        throw new IllegalArgumentException("route '" + name + "' has a canary and a bandit; both set its weights, "
            + "so it can have only one");
      }
      if (variants.size() < 2 || bandit.get().minShare() * variants.size() > 1) {
        throw new IllegalArgumentException("route '" + name + "': a bandit needs at least two variants and "
            + "min_share x variants <= 1, got " + variants.size() + " variants and min_share " + bandit.get().minShare());
      }
    }
    for (Rule r : rules) {
      if (!names.contains(r.variant())) {
        throw new IllegalArgumentException("route '" + name + "': a rule on '" + r.header() + "' names variant '"
            + r.variant() + "', which the route does not have (it has " + names + ")");
      }
    }
  }

  /** The same route with two variants' weights set (a canary step). */
  public Route withWeights(String first, double firstWeight, String second, double secondWeight) {
    List<Variant> next = variants.stream().map(v -> v.name().equals(first) ? new Variant(v.name(), v.model(), v.version(),
        firstWeight) : v.name().equals(second) ? new Variant(v.name(), v.model(), v.version(), secondWeight) : v).toList();
    return new Route(name, next, rules, canary, shadow, bandit);
  }

  /** The same route with the named variants' weights set (the others unchanged). */
  public Route withWeights(Map<String, Double> weights) {
    List<Variant> next = variants.stream().map(v -> weights.containsKey(v.name())
        ? new Variant(v.name(), v.model(), v.version(), weights.get(v.name())) : v).toList();
    return new Route(name, next, rules, canary, shadow, bandit);
  }

  public Optional<Variant> variant(String variantName) {
    return variants.stream().filter(v -> v.name().equals(variantName)).findFirst();
  }

  double totalWeight() {
    return variants.stream().mapToDouble(Variant::weight).sum();
  }
}
