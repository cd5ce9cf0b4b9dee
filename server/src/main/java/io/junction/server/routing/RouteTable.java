package io.junction.server.routing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/** An immutable snapshot of every route, replaced as a whole on every change. */
public record RouteTable(Map<String, Route> routes) {
  public static final RouteTable EMPTY = new RouteTable(Map.of());

  public RouteTable {
    routes = Map.copyOf(routes);
  }

  public static RouteTable of(List<Route> routes) {
    Map<String, Route> byName = new LinkedHashMap<>();
    for (Route r : routes) {
      if (byName.put(r.name(), r) != null) {
        throw new IllegalArgumentException("two routes are named '" + r.name() + "'");
      }
    }
    return new RouteTable(byName);
  }

  public Optional<Route> route(String name) {
    return Optional.ofNullable(routes.get(name));
  }

  /**
   * Checks the table against the model repository (models only): every variant names a model that exists, and no
   * route shadows a model of the same name (a route pointing to routes is not supported, so there are
   * no cycles).
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public RouteTable validate(Predicate<String> modelExists) {
    return validate(modelExists, (model, version) -> true);
  }

  /**
   * As {@link #validate(Predicate)}, and every explicit version (of a variant or a shadow) must be one the
   * model serves. Routes are checked in name order, so the same table is always refused for the same
   * reason.
   *
   * @param versionServed whether the model's version policy serves that version of it
   * @throws IllegalArgumentException saying what is wrong
   */
  public RouteTable validate(Predicate<String> modelExists, BiPredicate<String, String> versionServed) {
    for (Route r : new TreeMap<>(routes).values()) {
      if (modelExists.test(r.name())) {
        throw new IllegalArgumentException("route '" + r.name() + "' has the name of a model in the repository");
      }
      for (Variant v : r.variants()) {
        if (routes.containsKey(v.model())) {
          throw new IllegalArgumentException("route '" + r.name() + "' variant '" + v.name() + "' points to route '"
              + v.model() + "'; variants must name models");
        }
        if (!modelExists.test(v.model())) {
          throw new IllegalArgumentException("route '" + r.name() + "' variant '" + v.name() + "' names model '"
              + v.model() + "', which is not in the model repository");
        }
        if (!v.version().isEmpty() && !versionServed.test(v.model(), v.version())) {
          throw new IllegalArgumentException("route '" + r.name() + "' variant '" + v.name() + "' names version "
              + v.version() + " of model '" + v.model() + "', which the model repository does not have among the "
              + "versions its version_policy serves");
        }
      }
      if (r.shadow().isPresent()) {
        Shadow shadow = r.shadow().get();
        if (!modelExists.test(shadow.model())) {
          throw new IllegalArgumentException("route '" + r.name() + "' shadows model '" + shadow.model()
              + "', which is not in the model repository");
        }
        if (!shadow.version().isEmpty() && !versionServed.test(shadow.model(), shadow.version())) {
          throw new IllegalArgumentException("route '" + r.name() + "' shadows version " + shadow.version()
              + " of model '" + shadow.model() + "', which the model repository does not have among the versions "
              + "its version_policy serves");
        }
      }
    }
    return this;
  }
}
