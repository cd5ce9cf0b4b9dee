package io.junction.server.routing;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/** Requests whose metadata {@code header} equals {@code value} go to {@code variant}, before weights. */
public record Rule(String header, String value, String variant) {
  /** What gRPC allows in a metadata key (lower case; HTTP headers match it case-insensitively). */
  private static final Pattern METADATA_KEY = Pattern.compile("[0-9a-z_.-]+");

  public Rule {
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(variant, "variant");
    header = header.toLowerCase(Locale.ROOT); // gRPC metadata keys are lower case
    // Checked here, where a route is made, so that a rule no call could be matched against is refused rather than
    // failing every call of its route. (The transports bound the message that echoes the header.)
    if (!METADATA_KEY.matcher(header).matches()) {
      throw new IllegalArgumentException("a rule's header '" + header + "' is not a gRPC metadata key: lower-case "
          + "letters, digits, '-', '_' and '.' only");
    }
    if (header.endsWith("-bin")) {
      throw new IllegalArgumentException("a rule's header '" + header + "' names binary metadata, which rules do not "
          + "compare; use a text header");
    }
    if (header.startsWith("grpc-")) {
      throw new IllegalArgumentException("a rule's header '" + header + "' is reserved by gRPC and never reaches "
          + "routing");
    }
  }
}
