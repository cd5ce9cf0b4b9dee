package io.junction.server.routing;

import io.junction.server.errors.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Chooses a route's variant for one request. A pure function of the route and the request: no state,
 * so every replica decides the same for the same routing key.
 *
 * <p>Order: the {@code x-junction-variant} header pins a variant; an explicit model version picks the
 * variant serving that version; then the first matching rule; then, with a routing key, the key's
 * hash; otherwise the caller's random draw. Hash and draw pick by cumulative weight in variant order.
 */
public final class TrafficRouter {
  public static final String VARIANT_HEADER = "x-junction-variant";
  public static final String ROUTING_KEY_HEADER = "x-routing-key";

  private TrafficRouter() {}

  /**
   * @param headers request metadata by lower-case name (null when absent)
   * @param routingKey the sticky key, or null
   * @param version the request's model_version, or empty
   * @param draw a uniform random number in [0, 1), used only for weighted choices
   */
  public static RouteDecision decide(Route route, Function<String, String> headers, String routingKey, String version,
      double draw) {
    String pinned = headers.apply(VARIANT_HEADER);
    if (pinned != null) {
      Variant v = route.variant(pinned).orElseThrow(() -> new InvalidInputException("route '" + route.name()
          + "' has no variant '" + pinned + "' (header " + VARIANT_HEADER + "); it has "
          + route.variants().stream().map(Variant::name).toList()));
      return new RouteDecision(route, v, "pinned");
    }
    if (version != null && !version.isEmpty()) {
      for (Variant v : route.variants()) {
        if (v.version().equals(version)) {
          return new RouteDecision(route, v, "version");
        }
      }
      throw new InvalidInputException("route '" + route.name() + "' has no variant serving version " + version);
    }
    for (Rule rule : route.rules()) {
      if (rule.value().equals(headers.apply(rule.header()))) {
        return new RouteDecision(route, route.variant(rule.variant()).orElseThrow(), "rule");
      }
    }
    if (routingKey != null && !routingKey.isEmpty()) {
      return new RouteDecision(route, pick(route, unitHash(route.name(), routingKey)), "sticky");
    }
    return new RouteDecision(route, pick(route, draw), "weighted");
  }

  /** The variant whose cumulative-weight interval holds {@code u} in [0, 1). */
  static Variant pick(Route route, double u) {
    double total = route.totalWeight();
    double point = u * total;
    double upper = 0;
    Variant last = null;
    for (Variant v : route.variants()) {
      if (v.weight() <= 0) {
        continue;
      }
      upper += v.weight();
      last = v;
      if (point < upper) {
        return v;
      }
    }
    return last; // u * total rounded up to the total
  }

  /**
   * A stable position in [0, 1) for a key: 64-bit FNV-1a of route name and key, finished with a
   * murmur3 mix so that similar keys spread; the same on every replica and after every restart.
   */
  static double unitHash(String route, String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : (route + '\u0000' + key).getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (h >>> 11) * 0x1.0p-53;
  }
}
