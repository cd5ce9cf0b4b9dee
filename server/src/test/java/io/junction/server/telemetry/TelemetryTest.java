package io.junction.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The standard propagator names work, so callers instrumented with Zipkin's or Jaeger's headers continue their traces;
 * request spans rank their attributes when the configured limit would cut some.
 */
class TelemetryTest {
  private static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  @Test
  void b3AndJaegerPropagatorsCanBeConfigured() {
    try (Telemetry telemetry = Telemetry.autoconfigured(
        Map.of("otel.propagators", "tracecontext,baggage,b3,b3multi,jaeger"))) {
      String traceId = "463ac35c9f6413ad48485a3953bb6124";
      Context b3 = telemetry.propagator().extract(Context.root(),
          Map.of("b3", traceId + "-a2fb4a1d1a96d312-1"), GETTER);
      assertThat(Span.fromContext(b3).getSpanContext().getTraceId()).isEqualTo(traceId);
      Context jaeger = telemetry.propagator().extract(Context.root(),
          Map.of("uber-trace-id", traceId + ":a2fb4a1d1a96d312:0:1"), GETTER);
      assertThat(Span.fromContext(jaeger).getSpanContext().getTraceId()).isEqualTo(traceId);
    }
  }

  @Test
  void requestSpansRankTheirAttributesOnlyWhenALimitWouldCutSome() {
    try (SdkTracerProvider provider = SdkTracerProvider.builder().setSampler(Sampler.alwaysOn())
        // a provider without a processor does not record
        .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create())).build()) {
      Span recording = provider.get("test").spanBuilder("call").startSpan();
      try (Telemetry limited = Telemetry.autoconfigured(Map.of("otel.span.attribute.count.limit", "9"));
          Telemetry general = Telemetry.autoconfigured(Map.of("otel.attribute.count.limit", "5"));
          Telemetry unlimited = Telemetry.autoconfigured(Map.of())) {
        assertThat(limited.requestSpans().apply(recording)).isInstanceOf(RequestSpan.class);
        assertThat(general.requestSpans().apply(recording)).isInstanceOf(RequestSpan.class);
        assertThat(unlimited.requestSpans().apply(recording)).isSameAs(recording);
        assertThat(Telemetry.disabled().requestSpans().apply(recording)).isSameAs(recording);
      }
      recording.end();
    }
  }
}
