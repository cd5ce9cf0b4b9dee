package io.junction.server.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads routes from YAML:
 *
 * <pre>
 * routes:
 *   - name: classifier
 *     variants:
 *       - { name: stable, model: resnet, version: "1", weight: 95 }
 *       - { name: canary, model: resnet, version: "2", weight: 5 }
 *     rules:
 *       - { header: x-tenant, value: acme, variant: canary }
 *     shadow: { model: resnet, version: "3", fraction: 0.1 }   # optional: mirror 10 % of requests
 *     canary:            # optional: promote step by step, roll back on an SLO breach
 *       variant: canary
 *       baseline: stable
 *       steps: [5, 25, 50, 100]
 *       min_requests: 100
 *       min_seconds: 60
 *       max_error_rate_increase: 0.01
 *       max_p99_ratio: 2.0
 * </pre>
 *
 * Only plain maps, lists and scalars are read (SnakeYAML's safe constructor): a routes file cannot make
 * the server build arbitrary objects.
 */
public final class RoutesFile {
  private static final int MAX_BYTES = 1 << 20;

  private RoutesFile() {}

  /** @throws IllegalArgumentException saying where the file is wrong */
  public static RouteTable parse(String yaml) {
    if (yaml.length() > MAX_BYTES) {
      throw new IllegalArgumentException("the routes file is larger than " + MAX_BYTES + " bytes");
    }
    Object root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      options.setMaxAliasesForCollections(10);
      root = new Yaml(new SafeConstructor(options)).load(yaml);
    } catch (YAMLException e) {
      throw new IllegalArgumentException("the routes file is not valid YAML: " + e.getMessage(), e);
    }
    if (root == null) {
      return RouteTable.EMPTY;
    }
    Map<?, ?> top = map(root, "the routes file");
    List<Route> routes = new ArrayList<>();
    for (Object r : list(top.get("routes"), "routes")) {
      Map<?, ?> route = map(r, "a route");
      String name = string(route, "name", "a route");
      List<Variant> variants = new ArrayList<>();
      for (Object v : list(route.get("variants"), "route '" + name + "' variants")) {
        Map<?, ?> variant = map(v, "a variant of route '" + name + "'");
        String where = "route '" + name + "' variant";
        variants.add(new Variant(string(variant, "name", where), string(variant, "model", where),
            variant.get("version") == null ? "" : String.valueOf(variant.get("version")),
            number(variant, "weight", where + " '" + variant.get("name") + "'")));
      }
      List<Rule> rules = new ArrayList<>();
      if (route.get("rules") != null) {
        for (Object ru : list(route.get("rules"), "route '" + name + "' rules")) {
          Map<?, ?> rule = map(ru, "a rule of route '" + name + "'");
          String where = "a rule of route '" + name + "'";
          rules.add(new Rule(string(rule, "header", where), string(rule, "value", where), string(rule, "variant", where)));
        }
      }
      Optional<Canary> canary = Optional.empty();
      if (route.get("canary") != null) {
        Map<?, ?> c = map(route.get("canary"), "route '" + name + "' canary");
        String where = "route '" + name + "' canary";
        List<Double> steps = new ArrayList<>();
        for (Object step : list(c.get("steps"), where + " steps")) {
          if (!(step instanceof Number n)) {
            throw new IllegalArgumentException(where + " steps must be numbers, got " + step);
          }
          steps.add(n.doubleValue());
        }
        canary = Optional.of(new Canary(string(c, "variant", where), string(c, "baseline", where), steps,
            (long) optional(c, "min_requests", 100), optional(c, "min_seconds", 0),
            optional(c, "max_error_rate_increase", 0.01), optional(c, "max_p99_ratio", 2.0)));
      }
      Optional<Shadow> shadow = Optional.empty();
      if (route.get("shadow") != null) {
        Map<?, ?> sh = map(route.get("shadow"), "route '" + name + "' shadow");
        shadow = Optional.of(new Shadow(string(sh, "model", "route '" + name + "' shadow"),
            sh.get("version") == null ? "" : String.valueOf(sh.get("version")), optional(sh, "fraction", 1.0)));
      }
      routes.add(new Route(name, variants, rules, canary, shadow));
    }
    return RouteTable.of(routes);
  }

  private static double optional(Map<?, ?> m, String key, double fallback) {
    Object v = m.get(key);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException("'" + key + "' must be a number, got " + v);
    }
    return n.doubleValue();
  }

  private static Map<?, ?> map(Object o, String what) {
    if (!(o instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(what + " must be a mapping");
    }
    return m;
  }

  private static List<?> list(Object o, String what) {
    if (!(o instanceof List<?> l)) {
      throw new IllegalArgumentException(what + " must be a list");
    }
    return l;
  }

  private static String string(Map<?, ?> m, String key, String where) {
    Object v = m.get(key);
    if (v == null || String.valueOf(v).isBlank()) {
      throw new IllegalArgumentException(where + " needs '" + key + "'");
    }
    return String.valueOf(v);
  }

  private static double number(Map<?, ?> m, String key, String where) {
    Object v = m.get(key);
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException(where + " needs a numeric '" + key + "', got " + v);
    }
    return n.doubleValue();
  }
}
