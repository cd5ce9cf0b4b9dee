package io.junction.server.routing;

/** Told of every request a route served (metrics). Must be fast and thread-safe. */
public interface RouteObserver {
  RouteObserver NONE = (route, variant, success, nanos) -> { };

  void routed(String route, String variant, boolean success, long nanos);

  /** A shadow request finished; {@code comparison} is null when it failed. */
  default void shadowed(String route, String model, boolean success, long nanos, ShadowComparison comparison) {}
}
