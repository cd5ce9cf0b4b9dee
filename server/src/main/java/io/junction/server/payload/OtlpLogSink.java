package io.junction.server.payload;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Records as OpenTelemetry log records, through the server's OpenTelemetry SDK (exported with
 * {@code OTEL_LOGS_EXPORTER=otlp} and the usual endpoint settings), each in the context of the call's
 * span, so a collector can route them (Kafka, S3, Loki ...) and a backend can join them to the trace.
 * The body is the record's JSON; model, version, route, variant and status are attributes too.
 */
final class OtlpLogSink implements PayloadSink {
  static final AttributeKey<String> MODEL = AttributeKey.stringKey("junction.model.name");
  static final AttributeKey<String> VERSION = AttributeKey.stringKey("junction.model.version");
  static final AttributeKey<String> ROUTE = AttributeKey.stringKey("junction.route");
  static final AttributeKey<String> VARIANT = AttributeKey.stringKey("junction.variant");
  static final AttributeKey<String> STATUS = AttributeKey.stringKey("junction.status");
  static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("junction.request.id");
  static final AttributeKey<String> EVENT = AttributeKey.stringKey("event.name");

  private final Logger logger;

  OtlpLogSink(Logger logger) {
    this.logger = logger;
  }

  @Override
  public String name() {
    return "otlp";
  }

  @Override
  public void write(PayloadRecord r, byte[] json) {
    LogRecordBuilder b = logger.logRecordBuilder()
        .setTimestamp(r.timeMillis(), TimeUnit.MILLISECONDS)
        .setSeverity(r.status().equals("OK") ? Severity.INFO : Severity.WARN)
        .setBody(new String(json, StandardCharsets.UTF_8))
        .setAttribute(EVENT, "junction.inference.payload")
        .setAttribute(MODEL, r.model())
        .setAttribute(VERSION, r.version())
        .setAttribute(STATUS, r.status())
        .setAttribute(REQUEST_ID, r.requestId());
    if (!r.route().isEmpty()) {
      b.setAttribute(ROUTE, r.route()).setAttribute(VARIANT, r.variant());
    }
    if (r.traceId() != null && r.spanId() != null) {
      b.setContext(Context.root().with(Span.wrap(SpanContext.create(r.traceId(), r.spanId(), TraceFlags.getSampled(),
          TraceState.getDefault()))));
    }
    b.emit();
  }

  @Override
  public void close() {
    // the SDK that exports the records is the server's; it flushes when the server closes it
  }
}
