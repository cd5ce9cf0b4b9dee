package io.junction.server.telemetry;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The server's OpenTelemetry: tracer and propagators. Built the standard way with the SDK's
 * autoconfiguration ({@code OTEL_*} environment variables and {@code otel.*} system properties: exporter,
 * endpoint, sampler, resource), with Junction's defaults underneath: service name {@code junction} and no
 * exporter until one is configured (so a server without a collector does not log export failures).
 *
 * <p>Owns the SDK it builds; {@link #close()} flushes and shuts it down. No global is set.
 */
public final class Telemetry implements AutoCloseable {
  static final String INSTRUMENTATION = "io.junction.server";

  /**
   * Defaults under the standard settings; environment and system properties override each one. The
   * span processor's queue and export batches are four times the SDK's: at 100 % sampling a busy
   * server ends tens of thousands of spans a second, and the SDK's 2,048-span queue overflows (spans
   * dropped) while 512-span exports spend more per span on requests. No attribute value length limit: with one,
   * the SDK checks every value as it is set, and the client's text on spans is bounded where it is set instead
   * ({@link ClientText}).
   */
  private static final Map<String, String> DEFAULTS = Map.of(
      "otel.service.name", "junction",
      "otel.traces.exporter", "none",
      "otel.metrics.exporter", "none",
      "otel.logs.exporter", "none",
      "otel.bsp.max.queue.size", "8192",
      "otel.bsp.max.export.batch.size", "2048");

  private final OpenTelemetry openTelemetry;
  private final OpenTelemetrySdk owned;

  private Telemetry(OpenTelemetry openTelemetry, OpenTelemetrySdk owned) {
    this.openTelemetry = openTelemetry;
    this.owned = owned;
  }

  /** Tracing off: spans are no-ops, nothing is propagated. */
  public static Telemetry disabled() {
    return new Telemetry(OpenTelemetry.noop(), null);
  }

  /** The SDK configured from the environment, system properties and {@code overrides} (highest first). */
  public static Telemetry autoconfigured(Map<String, String> overrides) {
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> DEFAULTS)
        .addPropertiesSupplier(() -> overrides)
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
    return new Telemetry(sdk, sdk);
  }

  /** An OpenTelemetry the caller owns (tests, embedding). */
  public static Telemetry of(OpenTelemetry openTelemetry) {
    return new Telemetry(openTelemetry, null);
  }

  public Tracer tracer() {
    return openTelemetry.getTracer(INSTRUMENTATION);
  }

  /**
   * What a request's span is kept as where it is started: a {@link RequestSpan}, which hands its attributes over
   * most important first, when the configured attribute count limit would cut some of them; the span itself
   * otherwise, since ranking costs the request's thread ~1 µs and buys nothing when every attribute is kept.
   */
  public UnaryOperator<Span> requestSpans() {
    boolean limited = openTelemetry instanceof OpenTelemetrySdk sdk
        && sdk.getSdkTracerProvider().getSpanLimits().getMaxNumberOfAttributes() < RequestSpan.IMPORTANCE.size();
    return limited ? RequestSpan::of : UnaryOperator.identity();
  }

  /** Where payload records go as OpenTelemetry log records ({@code OTEL_LOGS_EXPORTER}). */
  public io.opentelemetry.api.logs.Logger payloadLogger() {
    return openTelemetry.getLogsBridge().get(INSTRUMENTATION + ".payload");
  }

  public TextMapPropagator propagator() {
    return openTelemetry.getPropagators().getTextMapPropagator();
  }

  @Override
  public void close() {
    if (owned != null) {
      owned.shutdown().join(10, TimeUnit.SECONDS);
    }
  }
}
