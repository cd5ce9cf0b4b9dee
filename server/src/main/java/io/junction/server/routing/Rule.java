package io.junction.server.routing;

import java.util.Locale;
import java.util.Objects;

/** Requests whose metadata {@code header} equals {@code value} go to {@code variant}, before weights. */
public record Rule(String header, String value, String variant) {
  public Rule {
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(variant, "variant");
    header = header.toLowerCase(Locale.ROOT); // gRPC metadata keys are lower case
  }
}
