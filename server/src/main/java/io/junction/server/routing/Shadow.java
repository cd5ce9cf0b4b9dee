package io.junction.server.routing;

import java.util.Objects;

/**
 * Mirrors a fraction of a route's requests to another model (version) after the primary has answered.
 * The shadow's answer is only compared with the primary's and recorded; the caller never sees it.
 */
public record Shadow(String model, String version, double fraction) {
  public Shadow {
    Objects.requireNonNull(model, "model");
    version = version == null ? "" : version;
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("shadow fraction must be in (0, 1], got " + fraction);
    }
  }
}
