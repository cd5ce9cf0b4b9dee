package io.junction.server.inference;

import java.util.Map;
import java.util.Objects;

/**
 * One request parameter as the Open Inference Protocol carries it: a boolean, a signed or unsigned
 * 64-bit integer, a double or a string. Unsigned values above {@link Long#MAX_VALUE} keep their bits
 * in {@code value} (negative as a long), as protobuf gives them.
 */
public record Parameter(Kind kind, Object value) {
  /** The protocol's parameter choices, named as the protocol names them. */
  public enum Kind { BOOL_PARAM, INT64_PARAM, UINT64_PARAM, DOUBLE_PARAM, STRING_PARAM }

  public Parameter {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(value, "value");
  }

  public static Parameter of(boolean value) {
    return new Parameter(Kind.BOOL_PARAM, value);
  }

  public static Parameter int64(long value) {
    return new Parameter(Kind.INT64_PARAM, value);
  }

  public static Parameter uint64(long bits) {
    return new Parameter(Kind.UINT64_PARAM, bits);
  }

  public static Parameter of(double value) {
    return new Parameter(Kind.DOUBLE_PARAM, value);
  }

  public static Parameter of(String value) {
    return new Parameter(Kind.STRING_PARAM, value);
  }

  /** Whether the parameter named {@code name} is there and the boolean true. */
  public static boolean isTrue(Map<String, Parameter> parameters, String name) {
    Parameter p = parameters.get(name);
    return p != null && Boolean.TRUE.equals(p.value);
  }

  /** The text of a string parameter; null for any other kind. */
  public String text() {
    return kind == Kind.STRING_PARAM ? (String) value : null;
  }
}
