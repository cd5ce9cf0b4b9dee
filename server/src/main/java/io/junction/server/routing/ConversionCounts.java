package io.junction.server.routing;

import java.util.Map;

/** Conversions of a binary outcome per variant of a route, from feedback; for bandit routes. */
@FunctionalInterface
public interface ConversionCounts {
  /** {@code successes} of {@code trials} (values 1 of values 0 or 1). */
  record Tally(long successes, long trials) {}

  /** Per variant that has values of the outcome; a non-binary outcome has none. */
  Map<String, Tally> of(String route, String outcome);
}
