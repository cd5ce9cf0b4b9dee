package io.junction.server.routing;

import java.util.Objects;

/**
 * One target of a route: a model and version (empty: its newest ready version) with a traffic weight.
 */
public record Variant(String name, String model, String version, double weight) {
  public Variant {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(model, "model");
    version = version == null ? "" : version;
    if (name.isBlank()) {
      throw new IllegalArgumentException("a variant needs a name");
    }
    if (model.isBlank()) {
      throw new IllegalArgumentException("variant '" + name + "' needs a model");
    }
    if (!(weight >= 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("variant '" + name + "' has weight " + weight + "; weights are finite and >= 0");
    }
  }
}
