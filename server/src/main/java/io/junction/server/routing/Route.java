package io.junction.server.routing;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A logical model name that fans out to variants. Variants are kept in the order given: weighted and
 * sticky choices cut the unit interval in that order, so growing the last variant (the canary) moves
 * only keys into it.
 */
public record Route(String name, List<Variant> variants, List<Rule> rules) {
  public Route {
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
    for (Rule r : rules) {
      if (!names.contains(r.variant())) {
        throw new IllegalArgumentException("route '" + name + "': a rule on '" + r.header() + "' names variant '"
            + r.variant() + "', which the route does not have (it has " + names + ")");
      }
    }
  }

  public Optional<Variant> variant(String variantName) {
    return variants.stream().filter(v -> v.name().equals(variantName)).findFirst();
  }

  double totalWeight() {
    return variants.stream().mapToDouble(Variant::weight).sum();
  }
}
