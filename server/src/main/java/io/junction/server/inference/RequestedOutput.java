package io.junction.server.inference;

import java.util.Map;
import java.util.Objects;

/**
 * An output a call asks for by name, with the parameters the protocol lets it give an output (Triton's
 * {@code classification}; a transport's own, such as REST's {@code binary_data}, pass through unread).
 */
public record RequestedOutput(String name, Map<String, Parameter> parameters) {
  public RequestedOutput {
    Objects.requireNonNull(name, "name");
    parameters = Map.copyOf(parameters);
  }
}
