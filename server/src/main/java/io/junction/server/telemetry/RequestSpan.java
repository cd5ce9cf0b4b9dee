package io.junction.server.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A request's span that keeps the attributes set on it over the call and hands them to the span it wraps
 * when it ends, most important first ({@link #IMPORTANCE}), whatever order the transport, the pipeline and
 * the batcher set them in.
 *
 * <p>Why: attributes are half or more of what a traced call costs (on the demo {@code mlp} a request span without
 * attributes cost ~4.6 µs of server CPU a call, with Junction's ~18 some 4.5–7 µs more; BENCHMARKS.md, "What a
 * traced call's attributes cost"). The SDK's standard {@code OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT} keeps the first
 * attributes a span is given and drops the rest for the cost of a map lookup, so in this order a limit of 9 keeps
 * the RPC, its status, the model and the version that served, queue wait, batch size and compute time, and drops
 * the details. Holding the attributes back costs the request's thread about as much as the limit saves it, so
 * {@link Telemetry#requestSpans()} wraps spans only when a limit is set that would cut some.
 *
 * <p>Attributes set after {@link #end()} began are dropped, as the SDK drops those set on an ended span (a
 * call cancelled while its batch runs). Everything else (status, events, links, the context) goes straight
 * to the wrapped span.
 */
public final class RequestSpan implements Span {
  /** The request span's attributes, most important first; others follow in the order they were set. */
  static final List<AttributeKey<?>> IMPORTANCE = List.of(
      SpanNames.RPC_SYSTEM,
      SpanNames.RPC_METHOD,
      SpanNames.RPC_SERVICE,
      SpanNames.RPC_STATUS,
      SpanNames.ERROR_TYPE,
      SpanNames.HTTP_METHOD,
      SpanNames.HTTP_ROUTE,
      SpanNames.HTTP_STATUS,
      SpanNames.MODEL_NAME,
      SpanNames.MODEL_VERSION,
      SpanNames.QUEUE_US,
      SpanNames.BATCH_SIZE,
      SpanNames.COMPUTE_INFER_US,
      SpanNames.ROUTE,
      SpanNames.VARIANT,
      SpanNames.ROUTE_REASON,
      SpanNames.RESPONSE_CACHE,
      SpanNames.REQUEST_ID,
      SpanNames.PEER_ADDRESS,
      SpanNames.MODEL_VERSION_REQUESTED,
      SpanNames.ROWS,
      SpanNames.INPUT_BYTES,
      SpanNames.INPUT_SHAPES,
      SpanNames.COMPUTE_INPUT_US,
      SpanNames.COMPUTE_OUTPUT_US,
      SpanNames.BATCH_TRACE_ID,
      SpanNames.BATCH_SPAN_ID,
      SpanNames.PEER_PORT,
      SpanNames.SERVER_ADDRESS,
      SpanNames.SERVER_PORT);

  private static final Map<AttributeKey<?>, Integer> RANKS = ranks();

  private final Span span;
  /** The value of each key of {@link #IMPORTANCE} by its rank: a key set again keeps its latest value. */
  private final Object[] ranked = new Object[IMPORTANCE.size()];
  /** Keys outside {@link #IMPORTANCE} with their values, in the order set; made when the first one is. */
  private List<Map.Entry<AttributeKey<?>, Object>> others;
  /** Set once, under this span's lock, by the first end. */
  private volatile boolean ended;

  private RequestSpan(Span span) {
    this.span = span;
  }

  /** {@code span} with its attributes written in order of importance; itself when not recording. */
  public static Span of(Span span) {
    return span.isRecording() ? new RequestSpan(span) : span;
  }

  private static Map<AttributeKey<?>, Integer> ranks() {
    Map<AttributeKey<?>, Integer> ranks = new HashMap<>();
    for (int i = 0; i < IMPORTANCE.size(); i++) {
      ranks.put(IMPORTANCE.get(i), i);
    }
    return Map.copyOf(ranks);
  }

  @Override
  public <T> Span setAttribute(AttributeKey<T> key, T value) {
    if (key == null || value == null || ended) {
      return this;
    }
    Integer rank = RANKS.get(key);
    if (rank != null) {
      ranked[rank] = value;
    } else {
      addOther(key, value);
    }
    return this;
  }

  /**
   * Locked, unlike the ranked slots: a call cancelled while its batch runs ends its span on one thread while the
   * batch may still set attributes on another, and a list, unlike an array slot, can be caught mid-change.
   */
  private synchronized void addOther(AttributeKey<?> key, Object value) {
    if (others == null) {
      others = new ArrayList<>(4);
    }
    others.add(Map.entry(key, value));
  }

  @Override
  public void end() {
    if (writeAttributes()) {
      span.end();
    }
  }

  @Override
  public void end(long timestamp, TimeUnit unit) {
    if (writeAttributes()) {
      span.end(timestamp, unit);
    }
  }

  /** Hands the attributes over, ranked ones first; false when the span had ended before. */
  private synchronized boolean writeAttributes() {
    if (ended) {
      return false;
    }
    ended = true;
    for (int i = 0; i < ranked.length; i++) {
      if (ranked[i] != null) {
        write(IMPORTANCE.get(i), ranked[i]);
      }
    }
    if (others != null) {
      for (Map.Entry<AttributeKey<?>, Object> e : others) {
        write(e.getKey(), e.getValue());
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  private <T> void write(AttributeKey<T> key, Object value) {
    span.setAttribute(key, (T) value);
  }

  @Override
  public Span addEvent(String name, Attributes attributes) {
    span.addEvent(name, attributes);
    return this;
  }

  @Override
  public Span addEvent(String name, Attributes attributes, long timestamp, TimeUnit unit) {
    span.addEvent(name, attributes, timestamp, unit);
    return this;
  }

  @Override
  public Span setStatus(StatusCode statusCode, String description) {
    span.setStatus(statusCode, description);
    return this;
  }

  @Override
  public Span recordException(Throwable exception, Attributes additionalAttributes) {
    span.recordException(exception, additionalAttributes);
    return this;
  }

  @Override
  public Span updateName(String name) {
    span.updateName(name);
    return this;
  }

  @Override
  public Span addLink(SpanContext spanContext, Attributes attributes) {
    span.addLink(spanContext, attributes);
    return this;
  }

  @Override
  public SpanContext getSpanContext() {
    return span.getSpanContext();
  }

  @Override
  public boolean isRecording() {
    return !ended && span.isRecording();
  }

  @Override
  public String toString() {
    return "RequestSpan{" + span + "}";
  }
}
