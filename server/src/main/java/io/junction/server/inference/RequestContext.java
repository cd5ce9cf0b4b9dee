package io.junction.server.inference;

import io.junction.server.scheduling.InferenceRequest;
import io.opentelemetry.api.trace.Span;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * What the transport knows about a call besides its body.
 *
 * @param headers the call's metadata, looked up by lower-case name
 * @param deadlineNanos {@link System#nanoTime()} after which the answer is of no use, or
 *     {@link InferenceRequest#NO_DEADLINE}
 * @param cancelled true once the caller has gone away
 * @param span where the pipeline records route, model, queue and compute; {@link Span#getInvalid()}
 *     when not traced
 * @param callerMayRun whether the thread that hands the call to the pipeline may run its model itself, when that
 *     spares a hand-off; false from a thread that must never be held up by a model, such as a transport's event loop
 *     ({@link InferenceRequest#callerMayRun()})
 */
public record RequestContext(Headers headers, long deadlineNanos, BooleanSupplier cancelled, Span span,
    boolean callerMayRun) {
  /** Request metadata by lower-case name; null when absent. */
  @FunctionalInterface
  public interface Headers {
    Headers NONE = name -> null;

    String get(String lowerCaseName);
  }

  public RequestContext {
    Objects.requireNonNull(headers, "headers");
    Objects.requireNonNull(cancelled, "cancelled");
    Objects.requireNonNull(span, "span");
  }

  /** The id of the call's span, or null when it is not traced. */
  public String spanId() {
    return span.getSpanContext().isValid() ? span.getSpanContext().getSpanId() : null;
  }

  /** The trace id of the call's span, or null when it is not traced. */
  public String traceId() {
    return span.getSpanContext().isValid() ? span.getSpanContext().getTraceId() : null;
  }
}
