package io.junction.server.routing;

/** Told of every request a route served (canary judgement). Must be fast and thread-safe. */
public interface RouteObserver {
  RouteObserver NONE = (route, variant, success, nanos) -> { };

  void routed(String route, String variant, boolean success, long nanos);
}
