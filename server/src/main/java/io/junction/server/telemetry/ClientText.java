package io.junction.server.telemetry;

/**
 * A client's own text (the model name, version and request id it sent) as a span attribute, cut to
 * {@link #MAX_CHARS}: one request must not make a span, and the export that carries it, as large as its message.
 *
 * <p>Why here and not the SDK's {@code OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT}: with a limit set, the SDK checks the
 * type of every value of every attribute as it is set (1.0–1.7 µs of CPU a traced call in OpenTelemetry's frames,
 * ~1 % of it; BENCHMARKS.md, "Tracing profiled side by side"), to bound the three attributes a client can make long. An operator who
 * sets that limit still gets it, on top of this one.
 */
public final class ClientText {
  /** What the server's spans kept of a client's text under the SDK limit it set before, 4,096 characters. */
  public static final int MAX_CHARS = 4096;

  private ClientText() {}

  /** {@code text}, or its first {@link #MAX_CHARS} characters. */
  public static String bounded(String text) {
    return text.length() <= MAX_CHARS ? text : text.substring(0, MAX_CHARS);
  }
}
